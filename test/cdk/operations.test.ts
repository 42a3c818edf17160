import { describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { synthStack } from '../helpers/cdk-synth.ts';
import type { FunctionId } from '../../cdk/props.ts';
import { METRIC, METRICS_NAMESPACE } from '../../lib/observability/metric-names.ts';

const synth = (context: Record<string, unknown> = {}) => synthStack('Ops', context);

const FUNCTIONS: FunctionId[] = ['start', 'job', 'stats', 'embed', 'reduce', 'query'];
const { template, stack } = synth();
const fnId = (name: FunctionId) => stack.getLogicalId(stack.functions[name].node.defaultChild as never);
const KMS = 'arn:aws:kms:eu-west-1:123456789012:key/0b5e3c1e-1111-2222-3333-444455556666';

/** The dashboard's body as text (CloudFormation joins it from parts). */
function dashboardBody(t: Template): string {
  const [d] = Object.values(t.findResources('AWS::CloudWatch::Dashboard')) as { Properties: { DashboardBody: unknown } }[];
  return JSON.stringify(d!.Properties.DashboardBody);
}

describe('PipelineStack operations', () => {
  it('names every log group /track-embeddings/<stack>/<function> and gives the functions Powertools settings', () => {
    for (const name of FUNCTIONS) {
      template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/track-embeddings/Ops/${name}`, RetentionInDays: 30 });
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `Ops-${name}`,
        Environment: {
          Variables: Match.objectLike({
            POWERTOOLS_SERVICE_NAME: 'Ops',
            POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            POWERTOOLS_TRACE_ENABLED: 'false',
          }),
        },
        TracingConfig: Match.absent(),
      });
    }
  });

  it('has a dashboard of jobs started/published/failed, latency, concurrency, throttles and errors by step', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Ops' });
    const body = dashboardBody(template);
    for (const title of ['Jobs started, published, failed', 'End-to-end latency', 'Concurrent executions', 'Throttles', 'Errors by step'])
      expect(body).toContain(title);
    for (const m of [METRIC.jobsStarted, METRIC.jobsPublished, METRIC.jobsFailed, METRIC.jobLatency, METRIC.stepFailures])
      expect(body).toContain(`\\"${METRICS_NAMESPACE}\\",\\"${m}\\",\\"service\\",\\"Ops\\",\\"step\\"`);
    expect(body).toContain('ConcurrentExecutions');
    expect(body).toContain('Throttles');
    template.hasOutput('DashboardUrl', Match.anyValue());
  });

  it('alarms on failed jobs, on every function’s throttles, on dead letters and on destination delivery failures', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.jobsFailed,
      Dimensions: Match.arrayWith([Match.objectLike({ Name: 'service' }), Match.objectLike({ Name: 'step', Value: 'job' })]),
      Threshold: 1,
    });
    for (const name of FUNCTIONS)
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Throttles',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(name) } }],
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'DestinationDeliveryFailures',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('start') } }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' });
  });

  it('reserves the query function’s concurrency (context queryConcurrency, default 10; 0 reserves none)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Ops-query', ReservedConcurrentExecutions: 10 });
    const { template: t } = synth({ queryConcurrency: 3 });
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Ops-query', ReservedConcurrentExecutions: 3 });
    const { template: none } = synth({ queryConcurrency: 0 });
    none.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'Ops-query', ReservedConcurrentExecutions: Match.absent() });
  });

  it('turns X-Ray on with the tracing flag, acknowledging X-Ray’s `*` by name and passing cdk-nag', () => {
    const { template: t } = synth({ tracing: true });
    for (const name of FUNCTIONS)
      t.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: `Ops-${name}`,
        TracingConfig: { Mode: 'Active' },
        Environment: { Variables: Match.objectLike({ POWERTOOLS_TRACE_ENABLED: 'true' }) },
      });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' })]),
      },
    });
  });

  it('versions the bucket and encrypts it with a KMS key when asked, granting the functions that key alone', () => {
    const { template: t, stack: s } = synth({ bucketVersioning: true, kmsKeyArn: KMS });
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KMS }, BucketKeyEnabled: true },
        ],
      },
    });
    for (const name of ['start', 'job', 'stats', 'embed', 'reduce'] as FunctionId[]) {
      const roleId = s.getLogicalId(s.functions[name].role!.node.defaultChild as never);
      t.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: roleId }],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: KMS })]),
        },
      });
    }
    template.hasResourceProperties('AWS::S3::Bucket', { VersioningConfiguration: Match.absent() });
    // An existing SSE-KMS bucket: the grants without a bucket of ours.
    const { template: existing } = synth({ bucketName: 'their-bucket', kmsKeyArn: KMS });
    existing.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'kms:Decrypt', Resource: KMS })]) },
    });
  });

  it.each([
    [{ kmsKeyArn: 'alias/mine' }, /kmsKeyArn must be a KMS key ARN/],
    [{ tracing: 'on' }, /tracing must be true or false/],
  ])('refuses context %j', (context, message) => {
    expect(() => synth(context)).toThrow(message);
  });
});
