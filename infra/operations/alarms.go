package operations

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Alarm is one CloudWatch alarm: named and described so that the notification e-mail alone says
// what is wrong and where to look.
type Alarm struct {
	// Key is the stable part of the logical name.
	Key string
	// Name is the alarm's name, the e-mail's subject line: "<cluster>: <what is wrong>".
	Name string
	// Description is the e-mail's body: what it measures, why it matters, what to run first.
	Description string
	// Queries are the metrics and the expression (the one with ReturnData) the alarm evaluates.
	Queries    []Query
	Comparison string
	Threshold  float64
	// Periods is how many consecutive 5-minute (or the query's) periods must breach.
	Periods int
}

// Query is a metric or a metric-math expression.
type Query struct {
	ID, Expression, Namespace, Metric, Stat string
	Dimensions                              map[string]pulumi.StringInput
	Period                                  int
	Return                                  bool
}

const fiveMinutes = 300

// Alarms returns the alarms of the stack; loadBalancer is the ALB's CloudWatch dimension
// (app/<name>/<id>), nil when there is none.
func Alarms(args *Args, loadBalancer pulumi.StringInput) []Alarm {
	c, ns, rel := args.ClusterName, args.App.Namespace, args.App.Release
	cfg := args.Config.Alarms
	cluster := map[string]pulumi.StringInput{"ClusterName": pulumi.String(c)}
	pod := func(workload string) map[string]pulumi.StringInput {
		return map[string]pulumi.StringInput{"ClusterName": pulumi.String(c), "Namespace": pulumi.String(ns), "PodName": pulumi.String(workload)}
	}
	kubectl := "aws eks update-kubeconfig --name " + c + " --region " + args.Region + "; "
	var alarms []Alarm
	if args.Config.ContainerInsightsEnabled() {
		alarms = append(alarms,
			Alarm{Key: "nodes-not-ready", Name: c + ": nodes NotReady",
				Description: "Container Insights counts at least one node of EKS cluster " + c + " as failed (NotReady) for 15 minutes: its pods are being evicted or stuck. Look: " + kubectl + "kubectl get nodes; kubectl describe node <name>; EC2 console, Auto Scaling group activity of the node group.",
				Queries:     []Query{{ID: "m1", Namespace: "ContainerInsights", Metric: "cluster_failed_node_count", Stat: "Maximum", Dimensions: cluster, Period: fiveMinutes, Return: true}},
				Comparison:  "GreaterThanThreshold", Threshold: 0, Periods: 3},
			Alarm{Key: "nodes-below-minimum", Name: fmt.Sprintf("%s: fewer than %d nodes", c, args.MinNodes),
				Description: fmt.Sprintf("EKS cluster %s has had fewer nodes than the node groups' minimum (%d, the sum of their minSize) for 15 minutes: instances failed to launch or join (capacity, quota, Spot). Look: EKS console, node group health; Auto Scaling activity; %skubectl get nodes.", c, args.MinNodes, kubectl),
				Queries:     []Query{{ID: "m1", Namespace: "ContainerInsights", Metric: "cluster_node_count", Stat: "Minimum", Dimensions: cluster, Period: fiveMinutes, Return: true}},
				Comparison:  "LessThanThreshold", Threshold: float64(args.MinNodes), Periods: 3},
			Alarm{Key: "redis-memory", Name: fmt.Sprintf("%s: redis memory above %d%% of its limit", c, cfg.RedisMemoryPercent),
				Description: "Redis (" + ns + "/" + rel + "-redis-master), the dataset task broker (and in the current generation the API's cache), uses more than its alarm share of its memory limit; at its maxmemory (75% of the limit, noeviction) it refuses new tasks and writes. Look: " + kubectl + "kubectl -n " + ns + " exec " + rel + "-redis-master-0 -- redis-cli info memory; raise app.resources.redis.",
				// Container Insights names a StatefulSet's pods by the StatefulSet (as for the workers).
				Queries:    []Query{{ID: "m1", Namespace: "ContainerInsights", Metric: "pod_memory_utilization_over_pod_limit", Stat: "Maximum", Dimensions: pod(rel + "-redis-master"), Period: fiveMinutes, Return: true}},
				Comparison: "GreaterThanThreshold", Threshold: float64(cfg.RedisMemoryPercent), Periods: 2},
			Alarm{Key: "worker-restarts", Name: c + ": dataset workers restarting",
				Description: "A dataset worker (" + ns + "/" + rel + "-dataset-worker-*) restarted in the last 5 minutes, twice in a row: a liveness failure or an OOM kill interrupts dataset operations. Look: " + kubectl + "kubectl -n " + ns + " get pods -l app.kubernetes.io/component=dataset-worker; kubectl -n " + ns + " logs --previous <pod>; CloudWatch Logs /aws/containerinsights/" + c + "/application.",
				Queries: []Query{
					{ID: "m1", Namespace: "ContainerInsights", Metric: "pod_number_of_container_restarts", Stat: "Maximum", Dimensions: pod(rel + "-dataset-worker"), Period: fiveMinutes},
					{ID: "e1", Expression: "DIFF(m1)", Return: true},
				},
				Comparison: "GreaterThanThreshold", Threshold: 0, Periods: 2},
		)
	}
	alarms = append(alarms,
		Alarm{Key: "api-server-errors", Name: c + ": Kubernetes API server errors",
			Description: "The EKS control plane of " + c + " answered more than 10 requests a period with a 5xx for 15 minutes: controllers, the load balancer controller and pulumi itself fail. Look: EKS console, cluster health and the control-plane logs in /aws/eks/" + c + "/cluster; AWS Health Dashboard.",
			Queries:     []Query{{ID: "m1", Namespace: "AWS/EKS", Metric: "apiserver_request_total_5XX", Stat: "Sum", Dimensions: cluster, Period: fiveMinutes, Return: true}},
			Comparison:  "GreaterThanThreshold", Threshold: 10, Periods: 3},
		Alarm{Key: "efs-throughput", Name: c + ": datasets file system near its throughput limit",
			Description: "The EFS file system of the datasets has used more than 80% of its permitted throughput for 15 minutes: dataset reads and git-annex operations slow down. Look: EFS console, Monitoring (throughput utilization); storage.efs.throughputMode.",
			Queries: []Query{
				{ID: "m1", Namespace: "AWS/EFS", Metric: "MeteredIOBytes", Stat: "Sum", Dimensions: map[string]pulumi.StringInput{"FileSystemId": args.FileSystemID}, Period: fiveMinutes},
				{ID: "m2", Namespace: "AWS/EFS", Metric: "PermittedThroughput", Stat: "Average", Dimensions: map[string]pulumi.StringInput{"FileSystemId": args.FileSystemID}, Period: fiveMinutes},
				// The EFS console's throughput utilization: MiB/s used over MiB/s permitted.
				{ID: "e1", Expression: "((m1/1048576)/PERIOD(m1))/(m2/1048576)*100", Return: true},
			},
			Comparison: "GreaterThanThreshold", Threshold: 80, Periods: 3},
		Alarm{Key: "efs-growth", Name: fmt.Sprintf("%s: datasets file system grew by more than %d GiB in a day", c, cfg.EFSDailyGrowthGiB),
			Description: "The EFS file system of the datasets grew faster than expected (operations.alarms.efsDailyGrowthGiB): a large upload, or a runaway job filling it, and a bill that grows with it. Look: EFS console, Monitoring (storage bytes); " + kubectl + "kubectl -n " + ns + " exec <a dataset worker> -- du -sh /datalad/*.",
			Queries: []Query{
				{ID: "m1", Namespace: "AWS/EFS", Metric: "StorageBytes", Stat: "Maximum", Dimensions: map[string]pulumi.StringInput{"FileSystemId": args.FileSystemID, "StorageClass": pulumi.String("Total")}, Period: 86400},
				{ID: "e1", Expression: "DIFF(m1)", Return: true},
			},
			Comparison: "GreaterThanThreshold", Threshold: float64(cfg.EFSDailyGrowthGiB) * (1 << 30), Periods: 1},
	)
	if loadBalancer != nil {
		lbDims := map[string]pulumi.StringInput{"LoadBalancer": loadBalancer}
		alarms = append(alarms, Alarm{Key: "alb-5xx", Name: fmt.Sprintf("%s: more than %d%% of requests fail (5xx)", c, cfg.ALB5xxPercent),
			Description: "The site's load balancer answered more than the alarm share of requests with a 5xx (from the API and web pods, or from the ALB itself when no target is healthy) for 10 minutes: users see errors. Look: " + kubectl + "kubectl -n " + ns + " get pods; kubectl -n " + ns + " logs deploy/" + rel + "-api; EC2 console, Target groups, health of each target.",
			Queries: []Query{
				{ID: "m1", Namespace: "AWS/ApplicationELB", Metric: "HTTPCode_Target_5XX_Count", Stat: "Sum", Dimensions: lbDims, Period: fiveMinutes},
				{ID: "m2", Namespace: "AWS/ApplicationELB", Metric: "HTTPCode_ELB_5XX_Count", Stat: "Sum", Dimensions: lbDims, Period: fiveMinutes},
				{ID: "m3", Namespace: "AWS/ApplicationELB", Metric: "RequestCount", Stat: "Sum", Dimensions: lbDims, Period: fiveMinutes},
				{ID: "e1", Expression: "100*(FILL(m1,0)+FILL(m2,0))/m3", Return: true},
			},
			Comparison: "GreaterThanThreshold", Threshold: float64(cfg.ALB5xxPercent), Periods: 2})
		for _, tg := range args.TargetGroups {
			// UnHealthyHostCount has the TargetGroup and LoadBalancer dimensions together (ELB User
			// Guide, CloudWatch metrics for your Application Load Balancer). Targets that are still
			// registering (initial) or leaving (draining) are not unhealthy, so a rollout alone never
			// raises it.
			dims := map[string]pulumi.StringInput{"LoadBalancer": loadBalancer, "TargetGroup": tg.ARNSuffix}
			alarms = append(alarms, Alarm{Key: "unhealthy-" + tg.Service, Name: fmt.Sprintf("%s: unhealthy targets behind %s", c, tg.Service),
				Description: "At least one pod of " + ns + "/" + tg.Service + " has failed the load balancer's health check for 15 minutes: the ALB sends it no requests, and when none is healthy the site answers 502/503 for its paths. Look: " + kubectl + "kubectl -n " + ns + " get endpoints " + tg.Service + "; kubectl -n " + ns + " describe pods -l app.kubernetes.io/instance=" + rel + "; EC2 console, Target groups, this group's Targets tab (the reason of each unhealthy target).",
				Queries:     []Query{{ID: "m1", Namespace: "AWS/ApplicationELB", Metric: "UnHealthyHostCount", Stat: "Maximum", Dimensions: dims, Period: fiveMinutes, Return: true}},
				Comparison:  "GreaterThanThreshold", Threshold: 0, Periods: 3})
		}
	}
	if args.FileSystemID == nil {
		// No EFS file system (app.generation current): none of its alarms.
		alarms = slices.DeleteFunc(alarms, func(a Alarm) bool { return strings.HasPrefix(a.Key, "efs-") })
	}
	return alarms
}

func newAlarms(ctx *pulumi.Context, name string, args *Args, parent pulumi.ResourceOption) (pulumi.StringOutput, error) {
	// Alarm notifications carry no secrets; an unencrypted topic is one CloudWatch can publish to
	// without a key policy for it.
	topic, err := sns.NewTopic(ctx, name+"-alarms", &sns.TopicArgs{
		DisplayName: pulumi.String("OpenNeuro " + args.ClusterName + " alarms"),
	}, parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	for _, email := range args.Config.Alarms.Emails {
		if _, err := sns.NewTopicSubscription(ctx, name+"-alarms-"+email, &sns.TopicSubscriptionArgs{
			Topic: topic.Arn, Protocol: pulumi.String("email"), Endpoint: pulumi.String(email),
		}, parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	for _, a := range Alarms(args, args.LoadBalancerARNSuffix) {
		var queries cloudwatch.MetricAlarmMetricQueryArray
		for _, q := range a.Queries {
			mq := cloudwatch.MetricAlarmMetricQueryArgs{Id: pulumi.String(q.ID), ReturnData: pulumi.Bool(q.Return)}
			if q.Expression != "" {
				mq.Expression = pulumi.String(q.Expression)
			} else {
				dims := pulumi.StringMap{}
				for k, v := range q.Dimensions {
					dims[k] = v
				}
				mq.Metric = cloudwatch.MetricAlarmMetricQueryMetricArgs{
					Namespace: pulumi.String(q.Namespace), MetricName: pulumi.String(q.Metric),
					Stat: pulumi.String(q.Stat), Period: pulumi.Int(q.Period), Dimensions: dims,
				}
			}
			queries = append(queries, mq)
		}
		if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+a.Key, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(a.Name),
			AlarmDescription:   pulumi.String(a.Description),
			ComparisonOperator: pulumi.String(a.Comparison),
			Threshold:          pulumi.Float64(a.Threshold),
			EvaluationPeriods:  pulumi.Int(a.Periods),
			MetricQueries:      queries,
			// No data is no problem (a metric appears with its first event): an outage shows as a
			// breach in one of the others.
			TreatMissingData: pulumi.String("notBreaching"),
			AlarmActions:     pulumi.Array{topic.Arn},
			OkActions:        pulumi.Array{topic.Arn},
		}, parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}
	return topic.Arn, nil
}
