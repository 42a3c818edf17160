import { describe, expect, it } from 'vitest';
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PipelineStack } from '../../cdk/pipeline-stack.ts';
import { propsFromContext } from '../../cdk/props.ts';

/** Synthesizes the stack with cdk-nag as cdk/app.ts does; synthesis throws on any unacknowledged finding. */
function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context });
  const stack = new PipelineStack(app, 'Test', propsFromContext(app.node));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { template: Template.fromStack(stack), stack };
}

const { template, stack } = synth();
const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
const fnId = (name: 'stats' | 'embed' | 'reduce' | 'failure') => logicalId(stack.functions[name]);

/** Every statement of the role policy attached to one function, resolved. */
function statementsOf(name: 'stats' | 'embed' | 'reduce' | 'failure') {
  const roleId = stack.getLogicalId(stack.functions[name].role!.node.defaultChild as never);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (p) =>
      (p as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

/** Action → the object prefixes (or bucket / function) it is granted on, for readable grant assertions. */
function grants(name: 'stats' | 'embed' | 'reduce' | 'failure'): Record<string, string[]> {
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
  it('runs four functions on Node 24, arm64, with the recursion guard and their own log groups', () => {
    template.resourceCountIs('AWS::Lambda::Function', 4 + 1); // + CDK's BucketNotificationsHandler
    for (const name of ['stats', 'embed', 'reduce', 'failure'] as const) {
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
          }),
        },
      });
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 4);
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

  it.each([
    [
      'stats',
      {
        's3:GetObject': ['incoming/*', 'jobs/*'],
        's3:PutObject': ['embeddings/*/error.json', 'jobs/*'],
        's3:ListBucket': ['bucket'],
        'lambda:InvokeFunction': ['function', 'function:*', 'function:Test-stats'],
      },
    ],
    [
      'embed',
      {
        's3:GetObject': ['incoming/*', 'jobs/*'],
        's3:PutObject': ['jobs/*'],
        's3:ListBucket': ['bucket'],
        'lambda:InvokeFunction': ['function', 'function:*'],
      },
    ],
    [
      'reduce',
      {
        's3:GetObject': ['embeddings/*', 'incoming/*', 'jobs/*'],
        's3:PutObject': ['embeddings/*', 'jobs/*'],
        's3:AbortMultipartUpload': ['embeddings/*', 'jobs/*'],
        's3:DeleteObject': ['embeddings/*/error.json', 'jobs/*'],
        's3:ListBucket': ['bucket'],
      },
    ],
    [
      'failure',
      { 's3:GetObject': ['incoming/*', 'jobs/*'], 's3:PutObject': ['embeddings/*/error.json', 'jobs/*'], 's3:ListBucket': ['bucket'] },
    ],
  ] as const)('grants %s exactly what its code does', (name, expected) => {
    expect(grants(name)).toEqual(expected);
  });

  it('lets stats invoke only embed and itself (its parts), embed only reduce, and both their on-failure destination', () => {
    const invoked = (name: 'stats' | 'embed' | 'reduce' | 'failure') =>
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
    expect(invoked('stats')).toEqual([fnId('embed'), fnId('failure'), 'Test-stats'].sort());
    expect(invoked('embed')).toEqual([fnId('failure'), fnId('reduce')].sort());
    expect(invoked('reduce')).toEqual([]);
    expect(invoked('failure')).toEqual([]);
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

  it.each(['stats', 'embed'] as const)('retries %s twice, then hands the event to the failure function', (name) => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId(name) },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [fnId('failure'), 'Arn'] } } },
    });
  });

  it('alarms on errors, failed shards and dropped events, and says where to upload', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
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
    });
    t.resourceCountIs('AWS::S3::Bucket', 0);
    t.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: 'my-existing-bucket' });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.anyValue() });
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-embed',
      ReservedConcurrentExecutions: Match.absent(),
      Environment: { Variables: Match.objectLike({ SHARD_ROWS: '250000' }) },
    });
  });

  it.each([
    [{ shardRows: 0 }, /shardRows must be an integer from 1/],
    [{ inputPrefix: 'in' }, /inputPrefix must end with '\/'/],
    [{ outputPrefix: 'incoming/out/' }, /outputPrefix and inputPrefix must not contain each other/],
    [{ logRetentionDays: 10 }, /logRetentionDays must be one of/],
    [
      { embedMemoryMb: 64, statsTimeoutSeconds: 1000 },
      /embedMemoryMb must be an integer from 128 .*statsTimeoutSeconds must be an integer from 1 to 900/,
    ],
  ])('refuses context %j with a message naming it', (context, message) => {
    expect(() => propsFromContext(new App({ context }).node)).toThrow(message);
  });
});
