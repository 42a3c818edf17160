/** The CDK app: `npx cdk synth` / `npx cdk deploy`; settings from context (see cdk/props.ts and the README). */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PipelineStack } from './pipeline-stack.ts';
import { propsFromContext } from './props.ts';

const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'TrackEmbeddings';
new PipelineStack(app, stackName, {
  ...propsFromContext(app.node),
  description: 'track-embeddings: Parquet tracks -> 14-d embeddings, serverless',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// Synthesis fails on any AWS Solutions finding that is not acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
