package openneuro_test

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// Typed accessors of the recorded objects: each fails the test if the object does not exist.

func (o objects) deployment(t *testing.T, name string) *appsv1.Deployment {
	t.Helper()
	return decode[appsv1.Deployment](t, o.get(t, "Deployment", name))
}

func (o objects) statefulSet(t *testing.T, name string) *appsv1.StatefulSet {
	t.Helper()
	return decode[appsv1.StatefulSet](t, o.get(t, "StatefulSet", name))
}

func (o objects) cronJob(t *testing.T, name string) *batchv1.CronJob {
	t.Helper()
	return decode[batchv1.CronJob](t, o.get(t, "CronJob", name))
}

func (o objects) service(t *testing.T, name string) *corev1.Service {
	t.Helper()
	return decode[corev1.Service](t, o.get(t, "Service", name))
}

func (o objects) configMap(t *testing.T, name string) *corev1.ConfigMap {
	t.Helper()
	return decode[corev1.ConfigMap](t, o.get(t, "ConfigMap", name))
}

func (o objects) secret(t *testing.T, name string) *corev1.Secret {
	t.Helper()
	return decode[corev1.Secret](t, o.get(t, "Secret", name))
}

func (o objects) claim(t *testing.T, name string) *corev1.PersistentVolumeClaim {
	t.Helper()
	return decode[corev1.PersistentVolumeClaim](t, o.get(t, "PersistentVolumeClaim", name))
}

func (o objects) ingress(t *testing.T, name string) *networkingv1.Ingress {
	t.Helper()
	return decode[networkingv1.Ingress](t, o.get(t, "Ingress", name))
}

func (o objects) pdb(t *testing.T, name string) *policyv1.PodDisruptionBudget {
	t.Helper()
	return decode[policyv1.PodDisruptionBudget](t, o.get(t, "PodDisruptionBudget", name))
}

// podSpec returns the pod template of a Deployment, StatefulSet or CronJob named name.
func (o objects) podTemplate(t *testing.T, name string) corev1.PodTemplateSpec {
	t.Helper()
	if _, ok := o["Deployment/"+name]; ok {
		return o.deployment(t, name).Spec.Template
	}
	if _, ok := o["StatefulSet/"+name]; ok {
		return o.statefulSet(t, name).Spec.Template
	}
	return o.cronJob(t, name).Spec.JobTemplate.Spec.Template
}

// container returns the container (or init container) named name of a pod.
func container(t *testing.T, pod corev1.PodSpec, name string) corev1.Container {
	t.Helper()
	for _, c := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no container %q", name)
	return corev1.Container{}
}

func volume(t *testing.T, pod corev1.PodSpec, name string) corev1.Volume {
	t.Helper()
	for _, v := range pod.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %q", name)
	return corev1.Volume{}
}

func mount(t *testing.T, c corev1.Container, path string) corev1.VolumeMount {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return m
		}
	}
	t.Fatalf("container %s mounts nothing at %s", c.Name, path)
	return corev1.VolumeMount{}
}
