/**
 * The serverless pipeline: a bucket (new or existing) that reports its uploads to EventBridge, the
 * rule that hands `incoming/` uploads to the start function, the job function that runs each job
 * (statistics, one embed per shard, reduce, publish) as a Lambda durable execution, the stats /
 * embed / reduce / query functions with least-privilege roles, a dead-letter queue for the uploads
 * that could not start a job, alarms, and cdk-nag's AWS Solutions checks.
 */
import { join } from 'node:path';
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEFAULTS, type FunctionId, type PipelineProps } from './props.ts';
import { ENV } from '../lib/aws/env.ts';
import { METRIC, METRICS_NAMESPACE, type StepName } from '../lib/observability/metric-names.ts';

const ROOT = join(import.meta.dirname, '..');
/** The job function's alias: a durable execution is started through a version or an alias, never `$LATEST` unqualified. */
const JOB_ALIAS = 'live';

/** The object-key patterns the functions are granted, one ARN each (see `grant` and `suppressions`). */
interface Keys {
  input: string;
  jobs: string;
  outputs: string;
  manifest: string;
  errorJson: string;
  /** Where start writes the error.json of an upload whose name gives no safe output folder. */
  rejected: string;
  parquetParts: string;
}

export class PipelineStack extends Stack {
  readonly bucket: s3.IBucket;
  readonly functions: Record<FunctionId, NodejsFunction>;
  /** What the start function starts executions of, and the `JobFunction` output. */
  readonly jobAlias: lambda.Alias;
  /** Upload events that could not start a job, from the rule's delivery and from start's own retries. */
  readonly deadLetterQueue: sqs.Queue;
  readonly queryUrl: lambda.FunctionUrl;
  readonly dashboard: cloudwatch.Dashboard;
  /** The KMS key of the bucket, when the context names one. */
  readonly key?: kms.IKey;
  private readonly names: Record<FunctionId, string>;
  private readonly keys: Keys;

  constructor(scope: Construct, id: string, props: PipelineProps & StackProps) {
    super(scope, id, props);
    const p = props;
    if (p.kmsKeyArn) this.key = kms.Key.fromKeyArn(this, 'BucketKey', p.kmsKeyArn);
    this.bucket = p.bucketName ? this.existingBucket(p.bucketName) : this.newBucket(p);
    const objects = (pattern: string) => this.bucket.arnForObjects(pattern);
    this.keys = {
      input: objects(`${p.inputPrefix}*`),
      jobs: objects(`${p.jobsPrefix}*`),
      outputs: objects(`${p.outputPrefix}*`),
      manifest: objects(`${p.outputPrefix}*/manifest.json`),
      errorJson: objects(`${p.outputPrefix}*/error.json`),
      rejected: objects(`${p.outputPrefix}_rejected/*`),
      parquetParts: objects(`${p.outputPrefix}*/parquet/part-*`),
    };

    // Explicit names: the job's role names its own durable executions, which by ARN would be a dependency cycle.
    this.names = {
      start: `${this.stackName}-start`,
      job: `${this.stackName}-job`,
      stats: `${this.stackName}-stats`,
      embed: `${this.stackName}-embed`,
      reduce: `${this.stackName}-reduce`,
      query: `${this.stackName}-query`,
    };
    const names = this.names;
    const prefixes = { [ENV.inputPrefix]: p.inputPrefix, [ENV.jobsPrefix]: p.jobsPrefix, [ENV.outputPrefix]: p.outputPrefix };
    const plan = {
      [ENV.shardRows]: String(p.shardRows),
      [ENV.statsPartRows]: String(p.statsPartRows),
      [ENV.parquetOutput]: String(p.parquetOutput),
    };
    const environment: Record<FunctionId, Record<string, string>> = {
      // Empty on AWS (the SDK then uses its normal endpoint); declared so that SAM's --env-vars, which
      // only overrides variables the template declares, can point start's invoke at a local endpoint.
      start: {
        ...prefixes,
        [ENV.jobFunction]: `${names.job}:${JOB_ALIAS}`,
        [ENV.bucket]: this.bucket.bucketName,
        AWS_ENDPOINT_URL_LAMBDA: '',
      },
      job: {
        ...prefixes,
        ...plan,
        [ENV.statsFunction]: names.stats,
        [ENV.embedFunction]: names.embed,
        [ENV.reduceFunction]: names.reduce,
        // Unreserved (0), the map still needs a bound: the default one.
        [ENV.embedConcurrency]: String(p.embedConcurrency || DEFAULTS.embedConcurrency),
        [ENV.invokeAttempts]: String(p.invokeAttempts),
        [ENV.retryDelaySeconds]: String(p.retryDelaySeconds),
        // A publish lock outlives any holder: the holder's execution has timed out and its last reduce has ended.
        [ENV.publishLeaseSeconds]: String(p.jobTimeoutMinutes * 60 + p.timeoutSeconds.reduce),
        [ENV.bucket]: this.bucket.bucketName,
      },
      stats: { ...prefixes, ...plan },
      embed: { ...prefixes },
      reduce: { ...prefixes },
      query: { ...prefixes, [ENV.bucket]: this.bucket.bucketName, [ENV.queryMaxRows]: String(p.queryMaxRows) },
    };
    const fn = (id: FunctionId, description: string, extra: Partial<lambda.FunctionOptions> = {}): NodejsFunction => {
      const logGroup = new logs.LogGroup(this, `${id}-logs`, {
        // Named, so that the runbook (docs/operations.md) can say where each function's logs are.
        logGroupName: logGroupName(this.stackName, id),
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
        // The S3 endpoint is declared everywhere for the same reason as start's Lambda endpoint above.
        environment: {
          ...environment[id],
          NODE_OPTIONS: '--enable-source-maps',
          AWS_ENDPOINT_URL_S3: '',
          // Powertools: the service every log line and metric names, the metrics' namespace, tracing by the context flag.
          POWERTOOLS_SERVICE_NAME: this.stackName,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          POWERTOOLS_LOG_LEVEL: 'INFO',
          POWERTOOLS_TRACE_ENABLED: String(p.tracing),
        },
        tracing: p.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
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
        ...extra,
      });
    };
    this.functions = {
      start: fn('start', 'S3 upload event -> starts the durable job of that upload, once (idempotent by execution name)'),
      job: fn('job', 'Durable execution of one job: statistics, one embed per shard, reduce, publish', {
        // The execution's whole life; the function timeout above bounds each replay of it.
        durableConfig: {
          executionTimeout: Duration.minutes(p.jobTimeoutMinutes),
          retentionPeriod: Duration.days(p.jobRetentionDays),
        },
      }),
      stats: fn('stats', 'Statistics of one upload, or of one part of it'),
      embed: fn('embed', 'Embeds one shard'),
      reduce: fn('reduce', 'Stitches the shards into the published outputs, manifest last'),
      query: fn('query', 'Function URL (AWS_IAM): the nearest tracks in a published output'),
    };
    const { start, job, embed } = this.functions;
    this.jobAlias = job.addAlias(JOB_ALIAS);
    // Callers sign their requests (SigV4) and need lambda:InvokeFunctionUrl on this function.
    this.queryUrl = this.functions.query.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    if (p.embedConcurrency > 0) (embed.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = p.embedConcurrency;
    // One caller's burst of queries cannot take the concurrency the pipeline's functions need.
    if (p.queryConcurrency > 0)
      (this.functions.query.node.defaultChild as lambda.CfnFunction).reservedConcurrentExecutions = p.queryConcurrency;

    this.deadLetterQueue = new sqs.Queue(this, 'events-dlq', {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    // Two ways an upload can fail to start a job, both ending in the queue: the rule cannot deliver the
    // event to start (throttled, for up to a day), or start fails it three times (two async retries).
    start.configureAsyncInvoke({ retryAttempts: 2, onFailure: new destinations.SqsDestination(this.deadLetterQueue) });
    new events.Rule(this, 'uploads', {
      description: `Uploads under ${p.inputPrefix} -> the start function`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [this.bucket.bucketName] },
          // Prefix only: a pattern holds one matcher per value (EventBridge refuses prefix AND suffix on one key),
          // so start checks the suffix, and an upload named `.PARQUET` reaches it to be refused with error.json.
          object: { key: events.Match.prefix(p.inputPrefix) },
        },
      },
      targets: [
        new targets.LambdaFunction(start, { retryAttempts: 8, maxEventAge: Duration.hours(24), deadLetterQueue: this.deadLetterQueue }),
      ],
    });

    this.grant(p);
    this.alarms(p);
    this.dashboard = this.buildDashboard();
    this.suppressions(p);

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
    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.deadLetterQueue.queueUrl,
      description: 'Upload events that could not start a job; npm run redrive replays them',
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards/dashboard/${this.stackName}`,
      description: 'The CloudWatch dashboard: jobs, latency, concurrency, throttles, errors by step',
    });
    new CfnOutput(this, 'LogGroups', {
      value: logGroupName(this.stackName, '<function>'),
      description: 'Log groups of the functions (start, job, stats, embed, reduce, query): JSON lines naming the job id',
    });
    new CfnOutput(this, 'JobFunction', {
      value: this.jobAlias.functionArn,
      description: 'The durable job function, by its alias: the start function starts one execution of it per upload',
    });
  }

  private newBucket(p: PipelineProps): s3.Bucket {
    return new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      ...(this.key
        ? { encryption: s3.BucketEncryption.KMS, encryptionKey: this.key, bucketKeyEnabled: true }
        : { encryption: s3.BucketEncryption.S3_MANAGED }),
      versioned: p.bucketVersioning,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      eventBridgeEnabled: true,
      lifecycleRules: [
        {
          id: 'expire-job-scratch',
          prefix: p.jobsPrefix,
          expiration: Duration.days(p.jobsExpireDays),
          // Versioned, an expired object leaves its versions behind: they go too.
          ...(p.bucketVersioning && { noncurrentVersionExpiration: Duration.days(1) }),
        },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });
  }

  private existingBucket(bucketName: string): s3.IBucket {
    const bucket = s3.Bucket.fromBucketName(this, 'Bucket', bucketName);
    // CDK's notifications custom resource turns EventBridge delivery on and keeps the bucket's other
    // notification settings; it leaves delivery on when the stack is deleted (it cannot tell who enabled it).
    bucket.enableEventBridgeNotification();
    return bucket;
  }

  /** Exactly the S3 and Lambda actions each function's code performs, on the keys it touches. */
  private grant(p: PipelineProps): void {
    const { start, job, stats, embed, reduce, query } = this.functions;
    const k = this.keys;
    const allow = (f: NodejsFunction, actionList: string[], resources: string[]) =>
      f.addToRolePolicy(new iam.PolicyStatement({ actions: actionList, resources }));
    // ListBucket, only under the prefixes a function reads, makes a HEAD of a missing key there a 404 rather than a 403.
    const list = (f: NodejsFunction, ...under: string[]) =>
      f.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': under.map((x) => `${x}*`) } },
        }),
      );

    // start: has this upload a job or an outcome already, else start its execution; refusals get an error.json.
    allow(start, ['s3:GetObject'], [k.manifest, k.errorJson, k.rejected]);
    allow(start, ['s3:PutObject'], [k.errorJson, k.rejected]);
    list(start, p.outputPrefix);
    allow(start, ['lambda:InvokeFunction'], [this.jobAlias.functionArn]);
    // Whether an execution of the job's name ran already (a name is never run twice: the next generation is).
    allow(start, ['lambda:ListDurableExecutionsByFunction'], [this.functionArn('job')]);

    // job: the checkpoints of its own executions (their ARNs carry a version, hence `:*`), and the steps it invokes.
    allow(job, ['lambda:CheckpointDurableExecution', 'lambda:GetDurableExecutionState'], [`${this.functionArn('job')}:*`]);
    allow(job, ['lambda:InvokeFunction'], [this.functionArn('stats'), this.functionArn('embed'), this.functionArn('reduce')]);
    allow(job, ['s3:GetObject'], [k.input, k.jobs, k.manifest, k.errorJson]);
    allow(job, ['s3:PutObject'], [k.jobs, k.manifest, k.errorJson]);
    // The job's scratch once it ends; an earlier failure's error.json once it succeeds.
    allow(job, ['s3:DeleteObject'], [k.jobs, k.errorJson]);
    list(job, p.jobsPrefix);

    allow(stats, ['s3:GetObject'], [k.input, k.jobs]);
    allow(stats, ['s3:PutObject'], [k.jobs]);
    list(stats, p.jobsPrefix);

    allow(embed, ['s3:GetObject'], [k.input, k.jobs]);
    allow(embed, ['s3:PutObject'], [k.jobs]);

    allow(reduce, ['s3:GetObject'], [k.input, k.jobs, k.outputs]);
    allow(reduce, ['s3:PutObject', 's3:AbortMultipartUpload'], [k.jobs, k.outputs]);
    // Deletes: the parts it stitched, an earlier publish's Parquet parts this one lacks, an earlier failure's error.json.
    allow(reduce, ['s3:DeleteObject'], [k.jobs, k.parquetParts, k.errorJson]);
    // A retried reduce aborts the multipart uploads its lost attempt left on the keys it is about to write.
    allow(reduce, ['s3:ListBucketMultipartUploads'], [this.bucket.bucketArn]);
    list(reduce, p.jobsPrefix, p.outputPrefix);

    // Read-only, on the published outputs alone.
    allow(query, ['s3:GetObject'], [k.outputs]);
    list(query, p.outputPrefix);

    // An SSE-KMS bucket: reading needs Decrypt, writing GenerateDataKey (and Decrypt, for multipart and copies).
    if (this.key) {
      for (const f of [start, job, stats, embed, reduce]) allow(f, ['kms:Decrypt', 'kms:GenerateDataKey'], [this.key.keyArn]);
      allow(query, ['kms:Decrypt'], [this.key.keyArn]);
    }
  }

  /** A function of this stack by name, unqualified: by ARN, the job's grants on itself would be a dependency cycle. */
  private functionArn(id: FunctionId): string {
    return this.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: this.names[id],
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
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
    const five = { period: Duration.minutes(5), statistic: 'Sum' };
    for (const [id, f] of Object.entries(this.functions)) {
      alarm(`${id}-errors`, f.metricErrors(five), `${f.functionName}: invocation errors`);
      alarm(
        `${id}-throttles`,
        f.metricThrottles(five),
        `${f.functionName}: throttled invocations (raise its reserved concurrency, or the account's)`,
      );
    }
    alarm('jobs-failed', this.pipelineMetric(METRIC.jobsFailed, 'job', five), 'Jobs that ended with error.json: status NAME says why');
    alarm(
      'start-destination-failures',
      this.functions.start.metric('DestinationDeliveryFailures', five),
      "Failed start events that could not be delivered to the dead-letter queue: they are lost; see start's log group",
    );
    alarm(
      'dead-letters',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      'S3 events that could not start a job: npm run redrive replays them',
    );
  }

  /** A metric the functions emit (EMF): dimensions service (the stack) and step. */
  private pipelineMetric(name: string, step: StepName, o: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { service: this.stackName, step },
      period: Duration.minutes(5),
      statistic: 'Sum',
      ...o,
    });
  }

  /** The dashboard: jobs started/published/failed, end-to-end latency, concurrency, throttles, errors by step, work done. */
  private buildDashboard(): cloudwatch.Dashboard {
    const fns = Object.entries(this.functions) as [FunctionId, NodejsFunction][];
    const steps: StepName[] = ['start', 'job', 'stats', 'embed', 'reduce', 'query'];
    const graph = (title: string, left: cloudwatch.IMetric[], width = 12) => new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    const d = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: this.stackName });
    d.addWidgets(
      graph('Jobs started, published, failed, superseded', [
        this.pipelineMetric(METRIC.jobsStarted, 'start', { label: 'started' }),
        this.pipelineMetric(METRIC.jobsPublished, 'job', { label: 'published' }),
        this.pipelineMetric(METRIC.jobsFailed, 'job', { label: 'failed' }),
        this.pipelineMetric(METRIC.jobsSuperseded, 'job', { label: 'superseded' }),
      ]),
      graph(
        'End-to-end latency (upload → published), ms',
        ['p50', 'p90', 'Maximum'].map((statistic) => this.pipelineMetric(METRIC.jobLatency, 'job', { statistic, label: statistic })),
      ),
    );
    d.addWidgets(
      graph(
        'Concurrent executions',
        fns.map(([id, f]) => f.metric('ConcurrentExecutions', { statistic: 'Maximum', label: id, period: Duration.minutes(1) })),
      ),
      graph(
        'Throttles',
        fns.map(([id, f]) => f.metricThrottles({ statistic: 'Sum', label: id, period: Duration.minutes(5) })),
      ),
    );
    d.addWidgets(
      graph(
        'Errors by step (step failures, EMF)',
        steps.map((step) => this.pipelineMetric(METRIC.stepFailures, step, { label: step })),
      ),
      graph(
        'Lambda errors by function',
        fns.map(([id, f]) => f.metricErrors({ statistic: 'Sum', label: id, period: Duration.minutes(5) })),
      ),
    );
    d.addWidgets(
      graph(
        'Step duration (p90), ms',
        steps.map((step) => this.pipelineMetric(METRIC.stepDuration, step, { statistic: 'p90', label: step })),
      ),
      graph('Rows, input bytes read, retries', [
        this.pipelineMetric(METRIC.rows, 'embed', { label: 'rows embedded' }),
        this.pipelineMetric(METRIC.bytesRead, 'embed', { label: 'bytes read' }),
        ...(['stats', 'embed', 'reduce'] as StepName[]).map((step) =>
          this.pipelineMetric(METRIC.retries, step, { label: `${step} retries` }),
        ),
      ]),
    );
    d.addWidgets(
      graph('Dead letters (upload events that could not start a job)', [
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(5) }),
      ]),
    );
    return d;
  }

  /** Findings of cdk-nag's AWS Solutions pack that are accepted, each with its reason. */
  private suppressions(p: PipelineProps): void {
    // The wildcard resources each role is meant to have, listed: a wildcard not listed here fails synthesis.
    const why: Record<keyof Keys, string> = {
      input: 'Uploads under the input prefix: their names are chosen by whoever uploads.',
      jobs: "Job scratch under the jobs prefix: keys are named by each job's id, made at run time.",
      outputs: 'Published outputs under the output prefix: one folder per upload name, chosen at run time.',
      manifest: "Each output's manifest.json, the mark that it is published; output names are chosen at run time.",
      errorJson: "Each output's error.json, the mark that its job failed; output names are chosen at run time.",
      rejected: 'The error.json of uploads whose names give no safe output folder, named after those uploads at run time.',
      parquetParts: 'The Parquet parts of each output, replaced when it is published again; output names are chosen at run time.',
    };
    const accepted: Record<FunctionId, (keyof Keys)[]> = {
      start: ['manifest', 'errorJson', 'rejected'],
      job: ['input', 'jobs', 'manifest', 'errorJson'],
      stats: ['input', 'jobs'],
      embed: ['input', 'jobs'],
      reduce: ['input', 'jobs', 'outputs', 'parquetParts', 'errorJson'],
      query: ['outputs'],
    };
    for (const [id, f] of Object.entries(this.functions) as [FunctionId, NodejsFunction][]) {
      const policy = f.role?.node.tryFindChild('DefaultPolicy') as iam.Policy;
      const acknowledge = (resource: string, reason: string) =>
        Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${nagArn(this.resolve(resource))}]`, reason });
      acknowledge(`${f.logGroup.logGroupArn}:*`, "Log streams of this function's own log group: stream names are created per sandbox.");
      for (const key of accepted[id]) acknowledge(this.keys[key], why[key]);
      // CDK grants X-Ray's two write actions on `*` with active tracing: X-Ray has no resource-level permissions for them.
      if (p.tracing)
        acknowledge('*', 'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions.');
      if (id === 'job')
        acknowledge(
          `${this.functionArn('job')}:*`,
          "The job function's own durable executions: their ARNs carry the version each one runs, which changes with every deploy.",
        );
    }
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is the dead-letter queue (of the upload rule and of the start function); a failed redrive leaves the message in it.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Server access logs are left to the account owner: the bucket holds derived data, and object-level events go to CloudTrail when enabled.',
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        "Only the CDK-provided BucketNotificationsHandler (which turns on the bucket's EventBridge delivery) uses AWSLambdaBasicExecutionRole; the pipeline functions have roles of their own with no managed policy.",
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarm actions cannot publish to a topic encrypted with the AWS-managed SNS key, and alarm notifications carry no data.',
    });
  }
}

/** The log group of a function of stack `stack`: `/track-embeddings/<stack>/<function>`. */
export function logGroupName(stack: string, fn: string): string {
  return `/track-embeddings/${stack}/${fn}`;
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
