/** The stack synthesized as cdk/app.ts does it, for tests that read its template. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PipelineStack } from '../../cdk/pipeline-stack.ts';
import { propsFromContext } from '../../cdk/props.ts';

/**
 * Synthesizes the stack with cdk-nag as cdk/app.ts does; synthesis throws on any unacknowledged
 * finding. Without bundling the functions' code (CDK's `aws:cdk:bundling-stacks` set to none):
 * test/cdk/bundles.test.ts builds and runs the bundles. The cloud assembly goes to a temporary
 * folder removed once the template is read (left to CDK, each synthesis left a cdk.out* folder
 * in the system's temporary folder).
 */
export function synthStack(
  name: string,
  context: Record<string, unknown> = {},
  change?: (stack: PipelineStack) => void,
): { template: Template; stack: PipelineStack } {
  const outdir = mkdtempSync(join(tmpdir(), 'track-embeddings-cdk-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
    const stack = new PipelineStack(app, name, propsFromContext(app.node));
    change?.(stack);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    return { template: Template.fromStack(stack), stack };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** An app's construct node carrying `context`, for reading props from it (its cloud assembly folder removed at once). */
export function contextNode(context: Record<string, unknown>): App['node'] {
  const outdir = mkdtempSync(join(tmpdir(), 'track-embeddings-cdk-'));
  // The App makes its folder as it is built: removed after, not before (each call left an empty one).
  const app = new App({ outdir, context });
  rmSync(outdir, { recursive: true, force: true });
  return app.node;
}
