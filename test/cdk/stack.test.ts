import { describe, expect, it } from 'vitest';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import type { PipelineStack } from '../../cdk/pipeline-stack.ts';
import { contextNode, synthStack } from '../helpers/cdk-synth.ts';
import { propsFromContext, type FunctionId } from '../../cdk/props.ts';

const synth = (context: Record<string, unknown> = {}, change?: (stack: PipelineStack) => void) => synthStack('Test', context, change);

const FUNCTIONS = ['start', 'job', 'stats', 'embed', 'reduce', 'query'] as const satisfies readonly FunctionId[];
const { template, stack } = synth();
const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
const fnId = (name: FunctionId) => logicalId(stack.functions[name]);
const dlqId = logicalId(stack.deadLetterQueue);
const aliasId = logicalId(stack.jobAlias);

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the role policy attached to one function, resolved. */
function statementsOf(name: FunctionId, t: Template = template): Statement[] {
  const roleId = stack.getLogicalId(stack.functions[name].role!.node.defaultChild as never);
  const policies = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (p) => (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
  );
}

/** A resource as a short readable name: an object-key pattern, `bucket`, `function:NAME[:QUALIFIER]`, or a logical ID. */
function describeResource(r: unknown): string {
  const text = JSON.stringify(r);
  const named = /:function:([^"]+)"\]\]\}$/.exec(text)?.[1];
  if (named) return `function:${named}`;
  const key = /"\/([^"]*)"\]\]\}$/.exec(text)?.[1];
  if (key !== undefined) return key;
  const ref = (r as { Ref?: string }).Ref ?? (r as { 'Fn::GetAtt'?: string[] })['Fn::GetAtt']?.[0];
  if (ref === stack.getLogicalId(stack.bucket.node.defaultChild as never)) return 'bucket';
  return ref ?? text;
}

/** Action → the resources it is granted on (logs left out: every role writes its own log group). */
function grants(name: FunctionId): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const st of statementsOf(name)) {
    for (const action of [st.Action].flat()) {
      if (action.startsWith('logs:')) continue;
      for (const r of [st.Resource].flat()) (out[action] ??= []).push(describeResource(r));
    }
  }
  for (const k of Object.keys(out)) out[k] = [...new Set(out[k])].sort();
  return out;
}

/** The `s3:prefix` values each ListBucket statement of a role is conditioned on. */
const listedPrefixes = (name: FunctionId) =>
  statementsOf(name)
    .filter((st) => [st.Action].flat().includes('s3:ListBucket'))
    .map((st) => st.Condition);

describe('PipelineStack', () => {
  it('runs six functions on Node 24, arm64, with the recursion guard and their own log groups', () => {
    template.resourceCountIs('AWS::Lambda::Function', 6 + 1); // + CDK's BucketNotificationsHandler
    for (const name of FUNCTIONS) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `Test-${name}`,
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        RecursiveLoop: 'Terminate',
        LoggingConfig: { LogGroup: Match.anyValue() },
        Environment: { Variables: Match.objectLike({ INPUT_PREFIX: 'incoming/', JOBS_PREFIX: 'jobs/', OUTPUT_PREFIX: 'embeddings/' }) },
      });
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 30 }, 6);
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Test-embed', ReservedConcurrentExecutions: 20 });
  });

  it.each([
    ['start', 256, 60],
    ['job', 512, 900],
    ['stats', 1769, 900],
    ['embed', 1769, 900],
    ['reduce', 1769, 900],
    ['query', 1769, 60],
  ] as const)('sizes %s at %i MB and %i s by default', (name, memory, timeout) => {
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: `Test-${name}`, MemorySize: memory, Timeout: timeout });
  });

  it('runs the job as a durable function behind the `live` alias, configured for its steps', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-job',
      DurableConfig: { ExecutionTimeout: 6 * 3600, RetentionPeriodInDays: 14 },
      Environment: {
        Variables: Match.objectLike({
          STATS_FUNCTION_NAME: 'Test-stats',
          EMBED_FUNCTION_NAME: 'Test-embed',
          REDUCE_FUNCTION_NAME: 'Test-reduce',
          SHARD_ROWS: '1048576',
          STATS_PART_ROWS: '1048576',
          PARQUET_OUTPUT: 'false',
          EMBED_CONCURRENCY: '20',
          INVOKE_ATTEMPTS: '3',
          RETRY_DELAY_SECONDS: '5',
          // The execution timeout (360 min) plus the reduce timeout (900 s).
          PUBLISH_LEASE_SECONDS: String(360 * 60 + 900),
          BUCKET_NAME: Match.anyValue(),
        }),
      },
    });
    // Only the job is durable.
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { DurableConfig: Match.anyValue() }, 1);
    template.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionName: { Ref: fnId('job') },
      FunctionVersion: { 'Fn::GetAtt': [Match.anyValue(), 'Version'] },
    });
    template.hasOutput('JobFunction', { Value: { Ref: aliasId }, Description: Match.anyValue() });
  });

  it('points start at the alias, and gives stats only its plan settings', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-start',
      Environment: { Variables: Match.objectLike({ JOB_FUNCTION_NAME: 'Test-job:live', BUCKET_NAME: Match.anyValue() }) },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-stats',
      Environment: {
        Variables: Match.objectLike({
          SHARD_ROWS: '1048576',
          STATS_PART_ROWS: '1048576',
          PARQUET_OUTPUT: 'false',
          STATS_FUNCTION_NAME: Match.absent(),
          JOB_FUNCTION_NAME: Match.absent(),
        }),
      },
    });
  });

  it('sends uploads under incoming/ from EventBridge to start, retried for a day, then to the dead-letter queue', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('Custom::S3BucketNotifications', { NotificationConfiguration: { EventBridgeConfiguration: {} } });
    template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        // No suffix: EventBridge takes one matcher per key, so start checks the `.parquet` suffix itself.
        detail: { bucket: { name: [{ Ref: Match.anyValue() }] }, object: { key: [{ prefix: 'incoming/' }] } },
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId('start'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [fnId('start'), 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
    // The rule alone may send to the queue.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'sqs:SendMessage', Principal: { Service: 'events.amazonaws.com' }, Condition: Match.anyValue() }),
        ]),
      },
    });
  });

  it('retries start twice on its own failures, then hands the event to the dead-letter queue; no other function has async settings', () => {
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('start') },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
  });

  it('keeps dead letters 14 days in an encrypted, TLS-only queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 1);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
    template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: dlqId }, Description: Match.anyValue() });
  });

  it('has no reconciler schedule, no failure function and none of their settings', () => {
    expect(Object.keys(template.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: Match.anyValue() } }))).toEqual([]);
    for (const gone of ['failure', 'reconcile']) {
      expect(Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: `Test-${gone}` } }))).toEqual([]);
    }
    const text = JSON.stringify(template.toJSON());
    for (const gone of ['STALL_TIMEOUT_SECONDS', 'MAX_REDRIVES', 'Test-reconcile', 'Test-failure']) expect(text).not.toContain(gone);
  });

  it.each([
    [
      'start',
      {
        's3:GetObject': ['embeddings/*/error.json', 'embeddings/*/manifest.json', 'embeddings/_rejected/*'],
        's3:PutObject': ['embeddings/*/error.json', 'embeddings/_rejected/*'],
        's3:ListBucket': ['bucket'],
        // Its on-failure destination (Lambda sends with the function's role).
        'sqs:GetQueueAttributes': [dlqId],
        'sqs:GetQueueUrl': [dlqId],
        'sqs:SendMessage': [dlqId],
        'lambda:InvokeFunction': [aliasId],
        'lambda:ListDurableExecutionsByFunction': ['function:Test-job'],
      },
    ],
    [
      'job',
      {
        'lambda:CheckpointDurableExecution': ['function:Test-job:*'],
        'lambda:GetDurableExecutionState': ['function:Test-job:*'],
        'lambda:InvokeFunction': ['function:Test-embed', 'function:Test-reduce', 'function:Test-stats'],
        's3:GetObject': ['embeddings/*/error.json', 'embeddings/*/manifest.json', 'incoming/*', 'jobs/*'],
        's3:PutObject': ['embeddings/*/error.json', 'embeddings/*/manifest.json', 'jobs/*'],
        's3:DeleteObject': ['embeddings/*/error.json', 'jobs/*'],
        's3:ListBucket': ['bucket'],
      },
    ],
    [
      'stats',
      {
        's3:GetObject': ['incoming/*', 'jobs/*'],
        's3:PutObject': ['jobs/*'],
        's3:ListBucket': ['bucket'],
      },
    ],
    [
      'embed',
      {
        's3:GetObject': ['incoming/*', 'jobs/*'],
        's3:PutObject': ['jobs/*'],
      },
    ],
    [
      'reduce',
      {
        's3:GetObject': ['embeddings/*', 'incoming/*', 'jobs/*'],
        's3:PutObject': ['embeddings/*', 'jobs/*'],
        's3:AbortMultipartUpload': ['embeddings/*', 'jobs/*'],
        // The shards it stitched; an earlier publish's Parquet parts this one lacks; an earlier failure's error.json.
        's3:DeleteObject': ['embeddings/*/error.json', 'embeddings/*/parquet/part-*', 'jobs/*'],
        's3:ListBucketMultipartUploads': ['bucket'],
        's3:ListBucket': ['bucket'],
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

  it.each([
    ['start', ['embeddings/*']],
    ['job', ['jobs/*']],
    ['stats', ['jobs/*']],
    ['reduce', ['jobs/*', 'embeddings/*']],
    ['query', ['embeddings/*']],
  ] as const)('lets %s list only under %j', (name, prefixes) => {
    expect(listedPrefixes(name)).toEqual([{ StringLike: { 's3:prefix': prefixes } }]);
  });

  it('has no wildcard action in any policy', () => {
    const policies = template.findResources('AWS::IAM::Policy');
    for (const p of Object.values(policies)) {
      for (const st of (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement) {
        for (const a of [st.Action].flat()) expect(a).not.toContain('*');
      }
    }
  });

  it('serves queries behind a Function URL with AWS_IAM auth, sized by the context', () => {
    template.resourceCountIs('AWS::Lambda::Url', 1);
    template.hasResourceProperties('AWS::Lambda::Url', {
      AuthType: 'AWS_IAM',
      TargetFunctionArn: { 'Fn::GetAtt': [fnId('query'), 'Arn'] },
    });
    // No resource policy opens the URL to anyone: callers need lambda:InvokeFunctionUrl in their own policy.
    expect(
      Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Action: 'lambda:InvokeFunctionUrl' } })),
    ).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-query',
      Environment: {
        Variables: Match.objectLike({ QUERY_MAX_ROWS: '2000000', OUTPUT_PREFIX: 'embeddings/', BUCKET_NAME: Match.anyValue() }),
      },
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

  it('alarms on the errors of every function and on dead letters, and says where to upload', () => {
    // Errors and throttles of each function, dead letters, failed jobs, start's destination failures (test/cdk/operations.test.ts).
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6 * 2 + 3);
    for (const name of FUNCTIONS) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmDescription: Match.stringLikeRegexp('npm run redrive'),
    });
    template.hasOutput('UploadTo', { Value: { 'Fn::Join': ['', Match.arrayWith(['s3://', '/incoming/'])] } });
    template.hasOutput('ResultsAt', Match.anyValue());
    template.hasOutput('BucketName', Match.anyValue());
  });

  it('passes cdk-nag’s AWS Solutions checks (synthesis fails on any unacknowledged finding)', () => {
    expect(() => synth({ alarmEmail: 'ops@example.com' })).not.toThrow();
    expect(() => synth({ bucketName: 'my-existing-bucket', alarmEmail: 'ops@example.com' })).not.toThrow();
  });

  it('acknowledges wildcards one by one: a new one fails synthesis', () => {
    const widen = (s: PipelineStack) =>
      s.functions.embed.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [s.bucket.arnForObjects('embeddings/*')] }),
      );
    expect(() => synth({}, widen)).toThrow(/AwsSolutions-IAM5\[Resource::<Bucket[0-9A-F]+\.Arn>\/embeddings\/\*\]/);
  });

  it('uses an existing bucket by name, turning on its EventBridge delivery, and sends alarms to an SNS topic when asked', () => {
    const { template: t } = synth({
      bucketName: 'my-existing-bucket',
      alarmEmail: 'ops@example.com',
      embedConcurrency: 0,
      shardRows: 250000,
      parquetOutput: true,
    });
    t.resourceCountIs('AWS::S3::Bucket', 0);
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'my-existing-bucket',
      Managed: false,
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ bucket: { name: ['my-existing-bucket'] } }) }),
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.anyValue() });
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Test-embed', ReservedConcurrentExecutions: Match.absent() });
    // Unreserved, the job's map keeps the default bound.
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-job',
      Environment: { Variables: Match.objectLike({ SHARD_ROWS: '250000', PARQUET_OUTPUT: 'true', EMBED_CONCURRENCY: '20' }) },
    });
  });

  it('takes the job settings from the context', () => {
    const { template: t } = synth({
      jobTimeoutMinutes: 60,
      jobRetentionDays: 30,
      invokeAttempts: 5,
      retryDelaySeconds: 10,
      reduceTimeoutSeconds: 600,
      embedConcurrency: 50,
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'Test-job',
      DurableConfig: { ExecutionTimeout: 3600, RetentionPeriodInDays: 30 },
      Environment: {
        Variables: Match.objectLike({
          INVOKE_ATTEMPTS: '5',
          RETRY_DELAY_SECONDS: '10',
          PUBLISH_LEASE_SECONDS: String(3600 + 600),
          EMBED_CONCURRENCY: '50',
        }),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Test-embed', ReservedConcurrentExecutions: 50 });
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
    [
      { startMemoryMb: 100, jobTimeoutSeconds: 0 },
      /startMemoryMb must be an integer from 128 .*jobTimeoutSeconds must be an integer from 1 to 900/,
    ],
    [{ jobTimeoutMinutes: 0 }, /jobTimeoutMinutes must be an integer from 1 to 527040, got '0'/],
    [{ jobTimeoutMinutes: 10 }, /jobTimeoutMinutes 10 must outlast the slowest step \(900 s\)/],
    [{ jobRetentionDays: 91 }, /jobRetentionDays must be an integer from 1 to 90, got '91'/],
    [{ invokeAttempts: 0 }, /invokeAttempts must be an integer from 1 to 20/],
    [{ retryDelaySeconds: 'soon' }, /retryDelaySeconds must be an integer from 1 to 3600, got 'soon'/],
  ])('refuses context %j with a message naming it', (context, message) => {
    expect(() => propsFromContext(contextNode(context))).toThrow(message);
  });
});
