package stackconfig

// CurrentStack is the stack the tests render for the current generation: staging's real stack
// file, moved to app.generation current the way an operator would: the generation set, every key of
// the 2020 topology removed (the DataLad service replicas, the Celery worker's CPU, the single
// tracking id, the EdgeFS storage nodes), the workers' zone named (staging lists its zones by ID,
// which validation cannot map to the zone names the nodes are labelled with), and a default node
// group whose nodes hold a worker pod, with room for the workers in their one zone. No stack file
// of its own: the tests then follow staging.
const CurrentStack = "staging"

// CurrentWorkerZone is the workers' zone of the current-generation test stack: a zone of staging's
// region (us-east-1).
const CurrentWorkerZone = "us-east-1a"

// Current returns the changes that turn CurrentStack into the current generation, then opts.
func Current(opts ...Option) []Option {
	return append([]Option{
		WithValue("app.generation", "current"),
		WithoutValue("app.replicas.dataladService"),
		WithoutValue("app.googleTrackingId"),
		WithoutValue("app.resources"),
		WithValue("app.googleTrackingIds", "UA-100754266-1,G-K092KXB4WL"),
		WithValue("app.workerZone", CurrentWorkerZone),
		WithoutValue("cluster.edgefsNodeGroup"),
		WithoutValue("cluster.defaultNodeGroup.capacityType"),
		WithoutValue("cluster.defaultNodeGroup.spotInstanceTypes"),
		WithValue("cluster.defaultNodeGroup.instanceType", "r5.2xlarge"),
		// One worker pod of the chart's production requests per r5.2xlarge, and every worker in one
		// of three zones: five workers (the largest count the tests use) need five nodes there.
		WithValue("cluster.defaultNodeGroup.minSize", 15),
		WithValue("cluster.defaultNodeGroup.desiredSize", 15),
		WithValue("cluster.defaultNodeGroup.maxSize", 18),
	}, opts...)
}
