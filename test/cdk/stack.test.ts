import { describe, expect, it } from 'vitest';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PipelineStack } from '../../cdk/pipeline-stack.ts';
import { propsFromContext } from '../../cdk/props.ts';

/**
 * Synthesizes the stack with cdk-nag as cdk/app.ts does; synthesis throws on any unacknowledged finding.
 * Without bundling the functions' code (CDK's `aws:cdk:bundling-stacks` set to none): these tests
 * read the template; test/cdk/bundles.test.ts builds and runs the bundles.
 */
function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new PipelineStack(app, 'Test', propsFromContext(app.node));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { template: Template.fromStack(stack), stack };
}

type FunctionName = 'stats' | 'embed' | 'reduce' | 'failure' | 'reconcile' | 'query';
const { template, stack } = synth();
const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
const fnId = (name: FunctionName) => logicalId(stack.functions[name]);

/** Every statement of the role policy attached to one function, resolved. */
function statementsOf(name: FunctionName) {
  const roleId = stack.getLogicalId(stack.functions[name].role!.node.defaultChild as never);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

/** Action → the object prefixes (or bucket / function) it is granted on, for readable grant assertions. */
function grants(name: FunctionName): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const st of statementsOf(name)) {
    for (const action of [st.Action].flat()) {
      for (const r of [st.Resource].flat()) {
        const text = JSON.stringify(r);
        if (action.startsWith('logs:')) continue;
        const named = /:function:([^"]+)"\]\]\}$/.exec(text)?.[1];
        const prefix = named
          ? `function:${named}`
          : (/"\/([^"]*)"\]\]\}$/.exec(text)?.[1] ??
            (text.includes('Bucket') ? 'bucket' : text.includes(':*') ? 'function:*' : 'function'));
        (out[action] ??= []).push(prefix);
      }
    }
  }
  for (const k of Object.keys(out)) out[k] = [...new Set(out[k])].sort();
  return out;
}

describe('PipelineStack', () => {
  it('runs six functions on Node 24, arm64, with the recursion guard and their own log groups', () => {
    template.resourceCountIs('AWS::Lambda::Function', 6 + 1); // + CDK's BucketNotificationsHandler
    for (const name of ['stats', 'embed', 'reduce', 'failure', 'reconcile', 'query'] as const) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `Test-${name}`,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        RecursiveLoop: 'Terminate',
        LoggingConfig: { LogGroup: Match.anyValue() },
        Environment: {
          Variables: Match.objectLike({
            STATS_FUNCTION_NAME: 'Test-stats',
            STATS_PART_ROWS: '16777216',
            EMBED_FUNCTION_NAME: 'Test-embed',
            REDUCE_FUNCTION_NAME: 'Test-reduce',
            SHARD_ROWS: '1048576',
            INPUT_PREFIX: 'incoming/',
            // 3 attempts of the slowest step (900 s) plus Lambda's retry delays.
            STALL_TIMEOUT_SECONDS: '2880',
            MAX_REDRIVES: '3',
            PARQUET_OUTPUT: 'false',
            BUCKET_NAME: Match.anyValue(),
          }),
        },
      });
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 6);
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Test-embed', ReservedConcurrentExecutions: 20 });
  });

  it('fires only for incoming/ + .parquet', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: {
              Key: {
                FilterRules: Match.arrayWith([
                  { Name: 'suffix', Value: '.parquet' },
                  { Name: 'prefix', Value: 'incoming/' },
                ]),
              },
            },
            LambdaFunctionArn: { 'Fn::GetAtt': [fnId('stats'), 'Arn'] },
          },
        ],
      },
    });
  });

  // Every step reads how its job ended (manifest.json, error.json) and retires the job's scratch (jobs/*).
  const ended = ['embeddings/*/error.json', 'embeddings/*/manifest.json', 'incoming/*', 'jobs/*'];
  it.each([
    [
      'stats',
      {
        's3:GetObject': ended,
        's3:PutObject': ['embeddings/*/error.json', 'jobs/*'],
        's3:DeleteObject': ['jobs/*'],
        's3:ListBucket': ['bucket'],
        'lambda:InvokeFunction': ['function', 'function:*', 'function:Test-embed', 'function:Test-reduce', 'function:Test-stats'],
      },
    ],
    [
      'embed',
      {
        's3:GetObject': ended,
        's3:PutObject': ['jobs/*'],
        's3:DeleteObject': ['jobs/*'],
        's3:ListBucket': ['bucket'],
        'lambda:InvokeFunction': ['function', 'function:*', 'function:Test-reduce'],
      },
    ],
    [
      'reduce',
      {
        's3:GetObject': ['embeddings/*', 'incoming/*', 'jobs/*'],
        's3:PutObject': ['embeddings/*', 'jobs/*'],
        's3:AbortMultipartUpload': ['embeddings/*', 'jobs/*'],
        // error.json once published; an earlier publish's Parquet parts this one lacks.
        's3:DeleteObject': ['embeddings/*/error.json', 'embeddings/*/parquet/part-*', 'jobs/*'],
        's3:ListBucket': ['bucket'],
        'lambda:InvokeFunction': ['function', 'function:*', 'function:Test-embed'],
      },
    ],
    [
      'failure',
      {
        's3:GetObject': ended,
        's3:PutObject': ['embeddings/*/error.json', 'jobs/*'],
        's3:DeleteObject': ['jobs/*'],
        's3:ListBucket': ['bucket'],
      },
    ],
    [
      'reconcile',
      {
        's3:GetObject': ended,
        's3:PutObject': ['embeddings/*/error.json', 'jobs/*'],
        's3:DeleteObject': ['jobs/*'],
        's3:ListBucket': ['bucket'],
        'lambda:InvokeFunction': ['function:Test-embed', 'function:Test-reduce', 'function:Test-stats'],
      },
    ],
    [
      'query',
      {
        's3:GetObject': ['embeddings/*'],
        's3:ListBucket': ['bucket'],
      },
    ],
  ] as const)('grants %s exactly what its code does', (name, expected) => {
    expect(grants(name)).toEqual(expected);
  });

  it('lets each function invoke only what its code invokes, and stats, embed and reduce their on-failure destination', () => {
    const invoked = (name: FunctionName) =>
      [
        ...new Set(
          statementsOf(name)
            .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'))
            .flatMap((s) =>
              [s.Resource]
                .flat()
                .map((r) => /"Fn::GetAtt":\["([^"]+)"/.exec(JSON.stringify(r))?.[1] ?? /:function:([^"]+)"/.exec(JSON.stringify(r))![1]!),
            ),
        ),
      ].sort();
    expect(invoked('stats')).toEqual([fnId('failure'), 'Test-embed', 'Test-reduce', 'Test-stats'].sort());
    expect(invoked('embed')).toEqual([fnId('failure'), 'Test-reduce'].sort());
    expect(invoked('reduce')).toEqual([fnId('failure'), 'Test-embed'].sort());
    expect(invoked('failure')).toEqual([]);
    expect(invoked('reconcile')).toEqual(['Test-embed', 'Test-reduce', 'Test-stats']);
    expect(invoked('query')).toEqual([]);
  });

  it('serves queries behind a Function URL with AWS_IAM auth, reading only the outputs, sized by the context', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fnId('query'), 'Arn'] },
    });
    // No resource policy opens the URL to anyone: callers need lambda:InvokeFunctionUrl in their own policy.
    expect(
      Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Action: 'lambda:InvokeFunctionUrl' } })),
    ).toEqual([]);
    const listing = statementsOf('query').find((st) => [st.Action].flat().includes('s3:ListBucket')) as unknown as { Condition: unknown };
    expect(listing.Condition).toEqual({ StringLike: { 's3:prefix': ['embeddings/*'] } });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-query',
      MemorySize: 1769,
      Timeout: 60,
      Environment: { Variables: Match.objectLike({ QUERY_MAX_ROWS: '2000000', OUTPUT_PREFIX: 'embeddings/' }) },
    });
    template.hasOutput('QueryUrl', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'FunctionUrl'] } });
    const sized = synth({ queryMaxRows: '8000000', queryMemoryMb: '6144' }).template;
    sized.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-query',
      MemorySize: 6144,
      Environment: { Variables: Match.objectLike({ QUERY_MAX_ROWS: '8000000' }) },
    });
    expect(() => synth({ queryMaxRows: '8000000' })).toThrow(/queryMaxRows 8000000 needs queryMemoryMb of at least \d+, got 1769/);
  });

  it('sweeps with the reconciler every 5 minutes, or as the context says', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId('reconcile'), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } })],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId('reconcile'), 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
    const custom = synth({ reconcileMinutes: 10, stallTimeoutSeconds: 600, maxRedrives: 5 }).template;
    custom.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-reconcile',
      Environment: { Variables: Match.objectLike({ STALL_TIMEOUT_SECONDS: '600', MAX_REDRIVES: '5' }) },
    });
  });

  it('has no wildcard action in any policy', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    for (const p of Object.values(policies)) {
      for (const st of (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[] }[] } } }).Properties.PolicyDocument
        .Statement) {
        for (const a of [st.Action].flat()) expect(a).not.toContain('*');
      }
    }
  });

  it('protects the bucket: no public access, TLS only, encrypted, scratch expires, stray uploads are aborted', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'jobs/', ExpirationInDays: 7, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  it.each(['stats', 'embed', 'reduce'] as const)('retries %s twice, then hands the event to the failure function', (name) => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId(name) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [fnId('failure'), 'Arn'] } } },
    });
  });

  it('alarms on errors, failed shards and dropped events, and says where to upload', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 8);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Invocations',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('failure') } }],
    });
    template.hasOutput('UploadTo', { Value: { 'Fn::Join': ['', Match.arrayWith(['s3://', '/incoming/'])] } });
    template.hasOutput('ResultsAt', Match.anyValue());
    template.hasOutput('BucketName', Match.anyValue());
  });

  it('passes cdk-nag’s AWS Solutions checks (synthesis fails on any unacknowledged finding)', () => {
    expect(() => synth({ alarmEmail: 'ops@example.com' })).not.toThrow();
  });

  it('uses an existing bucket by name, and sends alarms to an SNS topic when asked', () => {
    const { template: t } = synth({
      bucketName: 'my-existing-bucket',
      alarmEmail: 'ops@example.com',
      embedConcurrency: 0,
      shardRows: 250000,
      parquetOutput: true,
    });
    t.resourceCountIs('AWS::S3::Bucket', 0);
    t.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: 'my-existing-bucket' });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.anyValue() });
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-embed',
      ReservedConcurrentExecutions: Match.absent(),
      Environment: { Variables: Match.objectLike({ SHARD_ROWS: '250000', PARQUET_OUTPUT: 'true' }) },
    });
  });

  it.each([
    [{ shardRows: 0 }, /shardRows must be an integer from 1/],
    [{ inputPrefix: 'in' }, /inputPrefix must end with '\/'/],
    [{ outputPrefix: 'incoming/out/' }, /outputPrefix and inputPrefix must not contain each other/],
    [{ logRetentionDays: 10 }, /logRetentionDays must be one of/],
    [{ parquetOutput: 'yes' }, /parquetOutput must be true or false, got 'yes'/],
    [
      { embedMemoryMb: 64, statsTimeoutSeconds: 1000 },
      /embedMemoryMb must be an integer from 128 .*statsTimeoutSeconds must be an integer from 1 to 900/,
    ],
  ])('refuses context %j with a message naming it', (context, message) => {
    expect(() => propsFromContext(new App({ context }).node)).toThrow(message);
  });
});
