/**
 * The serverless pipeline: a bucket (new or existing), the stats / embed / reduce / failure
 * functions and the scheduled reconciler with least-privilege grants, the S3 notification on
 * `incoming/*.parquet`, async retries and the on-failure destination of every step, alarms, and
 * cdk-nag's AWS Solutions checks.
 */
import { join } from 'node:path';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { PipelineProps } from './props.ts';
import { ENV } from '../lib/aws/env.ts';

const ROOT = join(import.meta.dirname, '..');
type FunctionId = 'stats' | 'embed' | 'reduce' | 'failure' | 'reconcile' | 'query';

export class PipelineStack extends Stack {
  readonly bucket: s3.IBucket;
  readonly functions: Record<FunctionId, NodejsFunction>;
  readonly queryUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: PipelineProps & StackProps) {
    super(scope, id, props);
    const p = props;
    this.bucket = p.bucketName ? s3.Bucket.fromBucketName(this, 'Bucket', p.bucketName) : this.newBucket(p);

    // Explicit names: each function's configuration names the others without a dependency cycle.
    const names: Record<FunctionId, string> = {
      stats: `${this.stackName}-stats`,
      embed: `${this.stackName}-embed`,
      reduce: `${this.stackName}-reduce`,
      failure: `${this.stackName}-failure`,
      reconcile: `${this.stackName}-reconcile`,
      query: `${this.stackName}-query`,
    };
    // A job is presumed lost after its slowest step's three async attempts and Lambda's retry delays.
    const slowest = Math.max(p.timeoutSeconds.stats, p.timeoutSeconds.embed, p.timeoutSeconds.reduce);
    const stallTimeoutSeconds = p.stallTimeoutSeconds || 3 * slowest + 180;
    const environment = {
      [ENV.statsFunction]: names.stats,
      [ENV.embedFunction]: names.embed,
      [ENV.reduceFunction]: names.reduce,
      [ENV.shardRows]: String(p.shardRows),
      [ENV.statsPartRows]: String(p.statsPartRows),
      [ENV.inputPrefix]: p.inputPrefix,
      [ENV.jobsPrefix]: p.jobsPrefix,
      [ENV.outputPrefix]: p.outputPrefix,
      [ENV.stallTimeoutSeconds]: String(stallTimeoutSeconds),
      [ENV.maxRedrives]: String(p.maxRedrives),
      [ENV.parquetOutput]: String(p.parquetOutput),
      [ENV.bucket]: this.bucket.bucketName,
      NODE_OPTIONS: '--enable-source-maps',
      // Empty on AWS (the SDK then uses its normal endpoints); declared so that SAM's --env-vars,
      // which only overrides variables the template declares, can point them at local endpoints.
      AWS_ENDPOINT_URL_S3: '',
      AWS_ENDPOINT_URL_LAMBDA: '',
    };
    const fn = (id: FunctionId, description: string): NodejsFunction => {
      const logGroup = new logs.LogGroup(this, `${id}-logs`, {
        retention: p.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // A role of its own with no managed policy: logs go to this function's group only.
      const role = new iam.Role(this, `${id}-role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `${names[id]}: ${description}`,
      });
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:*`],
        }),
      );
      return new NodejsFunction(this, id, {
        functionName: names[id],
        description,
        entry: join(ROOT, 'functions', id, 'index.ts'),
        handler: 'handler',
        projectRoot: ROOT,
        depsLockFilePath: join(ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: p.memoryMb[id],
        timeout: Duration.seconds(p.timeoutSeconds[id]),
        environment,
        role,
        logGroup,
        recursiveLoop: lambda.RecursiveLoop.TERMINATE,
        bundling: {
          // CommonJS: parquet-wasm's Node build loads its .wasm from __dirname, copied beside the bundle.
          format: OutputFormat.CJS,
          target: 'node22',
          sourceMap: true,
          forceDockerBundling: false,
          // Our pinned SDK, not whatever the runtime ships: the code that was tested is the code that runs.
          bundleAwsSDK: true,
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) => [
              `cp "${inputDir}/node_modules/parquet-wasm/node/parquet_wasm_bg.wasm" "${outputDir}/"`,
            ],
          },
        },
      });
    };
    this.functions = {
      stats: fn('stats', 'S3 upload -> statistics (fanned out in parts for large files), plan, one async embed per shard'),
      embed: fn('embed', 'Embeds one shard; the last shard invokes the reducer'),
      reduce: fn('reduce', 'Stitches the shards into the published outputs, manifest last'),
      failure: fn('failure', 'On-failure destination of stats, embed and reduce: marks the job as failed'),
      reconcile: fn('reconcile', 'Scheduled: redrives stalled jobs, starts uploads whose event was lost, fails jobs that never finish'),
      query: fn('query', 'Function URL (AWS_IAM): the nearest tracks in a published output'),
    };
    this.functions.query.addEnvironment(ENV.queryMaxRows, String(p.queryMaxRows));
    // Callers sign their requests (SigV4) and need lambda:InvokeFunctionUrl on this function.
    this.queryUrl = this.functions.query.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    const { stats, embed, reduce, failure, reconcile } = this.functions;
    if (p.embedConcurrency > 0) (embed.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = p.embedConcurrency;
    for (const f of [stats, embed, reduce]) {
      f.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new destinations.LambdaDestination(failure) });
    }

    // The reconciler's sweeps are invoked synchronously by the schedule; a failed sweep is retried by the next one.
    new events.Rule(this, 'reconcile-schedule', {
      description: 'Sweeps unfinished track-embeddings jobs',
      schedule: events.Schedule.rate(Duration.minutes(p.reconcileMinutes)),
      targets: [new targets.LambdaFunction(reconcile, { retryAttempts: 0 })],
    });

    this.grant(p, names);
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(stats), {
      prefix: p.inputPrefix,
      suffix: '.parquet',
    });
    this.alarms(p);
    this.suppressions();

    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName, description: 'The pipeline bucket' });
    new CfnOutput(this, 'UploadTo', { value: `s3://${this.bucket.bucketName}/${p.inputPrefix}`, description: 'Upload NAME.parquet here' });
    new CfnOutput(this, 'ResultsAt', {
      value: `s3://${this.bucket.bucketName}/${p.outputPrefix}`,
      description: 'Outputs appear under NAME/ here',
    });
    new CfnOutput(this, 'QueryUrl', {
      value: this.queryUrl.url,
      description: 'POST {"name", "id" | "ids" | "features", "k"} here, signed with SigV4 (AWS_IAM)',
    });
  }

  private newBucket(p: PipelineProps): s3.Bucket {
    return new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-job-scratch', prefix: p.jobsPrefix, expiration: Duration.days(p.jobsExpireDays) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  /** Exactly the S3 and Lambda actions each function's code performs, on the prefixes it touches. */
  private grant(p: PipelineProps, names: Record<FunctionId, string>): void {
    const { stats, embed, reduce, failure, reconcile, query } = this.functions;
    const objects = (...prefixes: string[]) => prefixes.map((x) => this.bucket.arnForObjects(`${x}*`));
    const errorJson = this.bucket.arnForObjects(`${p.outputPrefix}*/error.json`);
    const manifest = this.bucket.arnForObjects(`${p.outputPrefix}*/manifest.json`);
    const allow = (f: NodejsFunction, actionList: string[], resources: string[]) =>
      f.addToRolePolicy(new iam.PolicyStatement({ actions: actionList, resources }));
    // ListBucket lets a HEAD of a missing key answer 404 rather than 403, and lists done markers.
    const list = (f: NodejsFunction) => allow(f, ['s3:ListBucket'], [this.bucket.bucketArn]);
    // Every step reads how the job ended (manifest.json, error.json) and retires the job's scratch.
    for (const f of [stats, embed, failure, reconcile]) {
      allow(f, ['s3:GetObject'], [...objects(p.inputPrefix, p.jobsPrefix), manifest, errorJson]);
      allow(f, ['s3:DeleteObject'], objects(p.jobsPrefix));
      list(f);
    }

    // Invokes go by function name: the functions invoke each other (stats itself, embed ⇄ reduce),
    // and references to each other's ARNs would be a dependency cycle.
    const invoke = (f: NodejsFunction, ...ids: FunctionId[]) =>
      allow(
        f,
        ['lambda:InvokeFunction'],
        ids.map((id) =>
          this.formatArn({ service: 'lambda', resource: 'function', resourceName: names[id], arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ),
      );

    allow(stats, ['s3:PutObject'], [...objects(p.jobsPrefix), errorJson]);
    // Stats invokes itself once per stats part, the shards, and (re-run) whatever the job still needs.
    invoke(stats, 'stats', 'embed', 'reduce');

    allow(embed, ['s3:PutObject'], objects(p.jobsPrefix));
    invoke(embed, 'reduce');

    allow(reduce, ['s3:GetObject'], objects(p.inputPrefix, p.jobsPrefix, p.outputPrefix));
    allow(reduce, ['s3:PutObject', 's3:AbortMultipartUpload'], objects(p.jobsPrefix, p.outputPrefix));
    // Deletes: the job's scratch, error.json once published, an earlier publish's Parquet parts this one lacks.
    allow(
      reduce,
      ['s3:DeleteObject'],
      [...objects(p.jobsPrefix), errorJson, this.bucket.arnForObjects(`${p.outputPrefix}*/parquet/part-*`)],
    );
    list(reduce);
    // A reduce that finds shards unfinished invokes them again.
    invoke(reduce, 'embed');

    allow(failure, ['s3:PutObject'], [...objects(p.jobsPrefix), errorJson]);

    allow(reconcile, ['s3:PutObject'], [...objects(p.jobsPrefix), errorJson]);
    invoke(reconcile, 'stats', 'embed', 'reduce');

    // Read-only, on the published outputs alone; ListBucket (there only) makes an unknown name a 404.
    allow(query, ['s3:GetObject'], objects(p.outputPrefix));
    query.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${p.outputPrefix}*`] } },
      }),
    );
  }

  private alarms(p: PipelineProps): void {
    const topic = p.alarmEmail
      ? new sns.Topic(this, 'AlarmTopic', { enforceSSL: true, displayName: 'track-embeddings alarms' })
      : undefined;
    if (topic && p.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(p.alarmEmail));
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      if (topic) a.addAlarmAction(new actions.SnsAction(topic));
    };
    for (const [id, f] of Object.entries(this.functions)) {
      alarm(`${id}-errors`, f.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), `${f.functionName}: invocation errors`);
    }
    alarm(
      'failed-shards',
      this.functions.failure.metricInvocations({ period: Duration.minutes(5), statistic: 'Sum' }),
      'A step failed after its retries: a job failed (see its error.json)',
    );
    alarm(
      'dropped-events',
      this.functions.stats.metric('AsyncEventsDropped', { period: Duration.minutes(5), statistic: 'Sum' }),
      'S3 events to stats were dropped',
    );
  }

  /** Findings of cdk-nag's AWS Solutions pack that are accepted, each with its reason. */
  private suppressions(): void {
    // Every wildcard resource in the functions' policies, acknowledged one by one with why it is there.
    for (const f of Object.values(this.functions)) {
      const policy = f.role?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
      if (!policy) continue;
      const doc = this.resolve(policy.document.toJSON()) as { Statement: { Resource: unknown }[] };
      for (const statement of doc.Statement) {
        for (const resource of [statement.Resource].flat()) {
          const arn = nagArn(resource);
          if (!arn.includes('*')) continue;
          Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${arn}]`, reason: wildcardReason(arn) });
        }
      }
    }
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Server access logs are left to the account owner: the bucket holds derived data, and object-level events go to CloudTrail when enabled.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'Only the CDK-provided BucketNotificationsHandler (which applies the S3 notification) uses AWSLambdaBasicExecutionRole; the pipeline functions have roles of their own with no managed policy.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarm actions cannot publish to a topic encrypted with the AWS-managed SNS key, and alarm notifications carry no data.',
    });
  }
}

/** An ARN as cdk-nag prints it in finding ids: `<Logical.Arn>` for GetAtt, `<Ref>` for Ref, joins flattened. */
function nagArn(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o['Fn::GetAtt'])) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
  if (typeof o.Ref === 'string') return `<${o.Ref}>`;
  if (Array.isArray(o['Fn::Join'])) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(nagArn).join(sep);
  }
  return JSON.stringify(v);
}

function wildcardReason(arn: string): string {
  if (arn.endsWith(':*') && arn.includes('logs'))
    return "Log streams of this function's own log group: stream names are created per sandbox.";
  if (arn.endsWith(':*')) return 'Versions and aliases of one named function (what grantInvoke emits); no other function is reachable.';
  return `Objects under one pipeline prefix (${arn.replace(/^.*?\//, '')}): object keys are chosen by uploaders and jobs at run time.`;
}
