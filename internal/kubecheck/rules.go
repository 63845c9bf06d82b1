// Package kubecheck checks the Kubernetes objects the program renders. rules.go holds the project's
// own rules as pure functions over plain objects (apiVersion, kind, metadata, spec...), decode.go a
// strict decode into the typed k8s.io/api structs; the package's tests run both, and a real
// kube-apiserver (envtest), over every object of every stack.
package kubecheck

import (
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/openneuro/openneuro-infra/infra/edgefs"
	"github.com/openneuro/openneuro-infra/internal/imageref"
)

// Rule names, as they appear in violations.
const (
	RuleDecode          = "decode"
	RuleResources       = "resources"
	RuleReadinessProbe  = "readiness-probe"
	RuleImageTag        = "image-tag"
	RuleLabels          = "recommended-labels"
	RuleServiceSelector = "service-selector"
	RuleVolumeMounts    = "volume-mounts"
	RuleReferences      = "references"
	RuleNoPlainSecrets  = "no-plain-secrets"
)

// RecommendedLabels must be on every object; managed-by must be ManagedBy. VersionLabel, the
// version of what runs, must be on the objects that run something (WorkloadKinds); the others
// may leave it out, so that an upgrade touches only the workloads whose image changes.
// https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
var RecommendedLabels = []string{
	"app.kubernetes.io/name",
	"app.kubernetes.io/instance",
	"app.kubernetes.io/component",
	"app.kubernetes.io/part-of",
	"app.kubernetes.io/managed-by",
}

// VersionLabel is the recommended label of the version that runs.
const VersionLabel = "app.kubernetes.io/version"

// WorkloadKinds are the kinds that run containers.
var WorkloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "CronJob": true, "Job": true, "Pod": true}

// ManagedBy is the required value of app.kubernetes.io/managed-by.
const ManagedBy = "pulumi"

// Exception lets matching objects (and containers) skip one rule. Name is a path.Match pattern,
// because object names carry the release (openneuro-<stack>-...).
type Exception struct {
	Kind      string
	Name      string
	Container string // only for container rules; "" matches every container
	Reason    string
}

func (e Exception) matches(kind, name, container string) bool {
	nameOK, _ := path.Match(e.Name, name)
	containerOK, _ := path.Match(e.Container, container)
	return nameOK && e.Kind == kind && (e.Container == "" || containerOK)
}

// NoReadinessProbe lists long-running containers that have no readinessProbe on purpose: they serve
// no traffic, so nothing routes by their readiness. For example a Celery beat scheduler:
//
//	{Kind: "Deployment", Name: "*-beat", Container: "beat", Reason: "Celery beat only enqueues tasks; it serves no traffic"},
var NoReadinessProbe = []Exception{
	{Kind: "Deployment", Name: "rook-edgefs-operator", Container: "rook-edgefs-operator",
		Reason: "the Rook EdgeFS operator image has no health endpoint and nothing routes to it"},
	{Kind: "StatefulSet", Name: "*-dataset-worker", Container: "*-dataset-taskiq-worker",
		Reason: "the current generation's taskiq worker serves no port; a readiness probe on it would take its pod's DataLad HTTP service out of the Service and the ALB whenever redis is away"},
}

// ServiceSelectorExceptions lists Services that on purpose do not select the pods of exactly one
// workload of the program: no selector (ExternalName, or endpoints managed elsewhere), or a selector
// for pods an operator creates (e.g. the NFS pods the EdgeFS operator runs for an NFS resource).
var ServiceSelectorExceptions = []Exception{
	{Kind: "Service", Name: edgefs.NFSServiceName("*"),
		Reason: "selects the NFS gateway pods the EdgeFS operator creates for the NFS resource; the workers' PersistentVolume mounts its cluster IP"},
}

// ExternalRef is a ConfigMap or Secret that pods may refer to although the program does not create it.
type ExternalRef struct {
	Kind      string // ConfigMap or Secret
	Namespace string
	Name      string
	Reason    string // who creates it
}

// ExternalRefs lists the ConfigMaps and Secrets made outside the program that pods may use.
var ExternalRefs = []ExternalRef{}

// Violation is one object breaking one rule.
type Violation struct {
	Object string // "Kind namespace/name", or "Kind name" when cluster-scoped
	Rule   string
	Detail string
}

func (v Violation) String() string { return v.Object + ": " + v.Rule + ": " + v.Detail }

// Check runs every rule over all objects of one stack and returns the violations, sorted.
// secretValues are the values the secrets have in this run (the test harness's placeholders): none of
// them may appear in a ConfigMap or an annotation.
func Check(objs []map[string]any, secretValues []string) []Violation {
	inv, out := newInventory(objs)
	for _, rule := range []func(*inventory) []Violation{
		checkResources, checkReadinessProbes, checkImageTags, checkLabels,
		checkServiceSelectors, checkVolumeMounts, checkReferences,
	} {
		out = append(out, rule(inv)...)
	}
	out = append(out, checkNoPlainSecrets(inv, secretValues)...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

// UnusedExceptions reports exception entries that match no object in objs (all stacks' objects), so
// the tables only document what exists.
func UnusedExceptions(objs []map[string]any) []string {
	inv, _ := newInventory(objs)
	var out []string
	for _, e := range NoReadinessProbe {
		used := slices.ContainsFunc(inv.workloads, func(w workload) bool {
			return slices.ContainsFunc(w.containers(), func(c namedContainer) bool {
				return e.matches(w.obj.GetKind(), w.obj.GetName(), c.Name)
			})
		})
		if !used {
			out = append(out, fmt.Sprintf("NoReadinessProbe: %s %s container %q matches nothing", e.Kind, e.Name, e.Container))
		}
	}
	for _, e := range ServiceSelectorExceptions {
		if !slices.ContainsFunc(inv.objs, func(u *unstructured.Unstructured) bool { return e.matches(u.GetKind(), u.GetName(), "") }) {
			out = append(out, fmt.Sprintf("ServiceSelectorExceptions: %s %s matches nothing", e.Kind, e.Name))
		}
	}
	return out
}

// workload is an object that runs pods, with its pod template decoded.
type workload struct {
	obj         *unstructured.Unstructured
	id          string
	pod         corev1.PodSpec
	podLabels   map[string]string
	podAnnots   map[string]string
	longRunning bool     // Deployment, StatefulSet, DaemonSet: pods that should become ready
	replicas    int32    // StatefulSet only, for per-pod Service selectors
	claims      []string // StatefulSet volumeClaimTemplates, which pods mount like volumes
}

// inventory is one stack's objects, indexed for the rules.
type inventory struct {
	objs      []*unstructured.Unstructured
	workloads []workload
	// data holds the keys of every ConfigMap and Secret by "Kind namespace/name"; nil keys mean
	// unknown (e.g. the whole data map is one secret output).
	data map[string]map[string]bool
}

func newInventory(objs []map[string]any) (*inventory, []Violation) {
	inv := &inventory{data: map[string]map[string]bool{}}
	var out []Violation
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: o}
		inv.objs = append(inv.objs, u)
		switch u.GetKind() {
		case "ConfigMap":
			inv.data[refID("ConfigMap", namespace(u), u.GetName())] = keysOf(o, "data", "binaryData")
		case "Secret":
			inv.data[refID("Secret", namespace(u), u.GetName())] = keysOf(o, "data", "stringData")
		}
		w, ok, err := toWorkload(u)
		if err != nil {
			out = append(out, Violation{objectID(u), RuleDecode, err.Error()})
		} else if ok {
			inv.workloads = append(inv.workloads, w)
		}
	}
	return inv, out
}

// toWorkload decodes the pod template of Deployments, StatefulSets, DaemonSets, Jobs and CronJobs.
func toWorkload(u *unstructured.Unstructured) (workload, bool, error) {
	w := workload{obj: u, id: objectID(u)}
	var tmpl corev1.PodTemplateSpec
	from := func(typed any) error {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
			return fmt.Errorf("decode %s: %w", u.GetKind(), err)
		}
		return nil
	}
	switch u.GroupVersionKind().GroupKind().String() {
	case "Deployment.apps":
		var d appsv1.Deployment
		if err := from(&d); err != nil {
			return w, false, err
		}
		tmpl, w.longRunning = d.Spec.Template, true
	case "StatefulSet.apps":
		var s appsv1.StatefulSet
		if err := from(&s); err != nil {
			return w, false, err
		}
		tmpl, w.longRunning, w.replicas = s.Spec.Template, true, 1
		if s.Spec.Replicas != nil {
			w.replicas = *s.Spec.Replicas
		}
		for _, c := range s.Spec.VolumeClaimTemplates {
			w.claims = append(w.claims, c.Name)
		}
	case "DaemonSet.apps":
		var d appsv1.DaemonSet
		if err := from(&d); err != nil {
			return w, false, err
		}
		tmpl, w.longRunning = d.Spec.Template, true
	case "Job.batch":
		var j batchv1.Job
		if err := from(&j); err != nil {
			return w, false, err
		}
		tmpl = j.Spec.Template
	case "CronJob.batch":
		var c batchv1.CronJob
		if err := from(&c); err != nil {
			return w, false, err
		}
		tmpl = c.Spec.JobTemplate.Spec.Template
	default:
		return w, false, nil
	}
	w.pod, w.podLabels, w.podAnnots = tmpl.Spec, tmpl.Labels, tmpl.Annotations
	return w, true, nil
}

// containers returns init containers then containers, each with a label for messages.
func (w workload) containers() []namedContainer {
	var out []namedContainer
	for _, c := range w.pod.InitContainers {
		out = append(out, namedContainer{c, "init container " + strconv.Quote(c.Name), true})
	}
	for _, c := range w.pod.Containers {
		out = append(out, namedContainer{c, "container " + strconv.Quote(c.Name), false})
	}
	return out
}

type namedContainer struct {
	corev1.Container
	label string
	init  bool
}

// checkResources: every container has cpu and memory requests and limits, so the scheduler can
// place pods and one pod cannot starve a node.
func checkResources(inv *inventory) []Violation {
	var out []Violation
	for _, w := range inv.workloads {
		for _, c := range w.containers() {
			var missing []string
			for _, kind := range []struct {
				name string
				list corev1.ResourceList
			}{{"requests", c.Resources.Requests}, {"limits", c.Resources.Limits}} {
				for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if _, ok := kind.list[res]; !ok {
						missing = append(missing, kind.name+"."+string(res))
					}
				}
			}
			if len(missing) > 0 {
				out = append(out, Violation{w.id, RuleResources, c.label + " has no " + strings.Join(missing, ", ")})
			}
		}
	}
	return out
}

// checkReadinessProbes: every long-running container has a readinessProbe, so rollouts wait for
// ready pods and Services route only to them. Sidecars (init containers that keep running) count.
func checkReadinessProbes(inv *inventory) []Violation {
	var out []Violation
	for _, w := range inv.workloads {
		if !w.longRunning {
			continue
		}
		for _, c := range w.containers() {
			sidecar := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
			if (c.init && !sidecar) || c.ReadinessProbe != nil {
				continue
			}
			excepted := slices.ContainsFunc(NoReadinessProbe, func(e Exception) bool {
				return e.matches(w.obj.GetKind(), w.obj.GetName(), c.Name)
			})
			if !excepted {
				out = append(out, Violation{w.id, RuleReadinessProbe,
					c.label + " has no readinessProbe; add one, or list it in NoReadinessProbe with the reason"})
			}
		}
	}
	return out
}

// checkImageTags: every image names a tag other than latest, or a digest, so a deploy is repeatable.
func checkImageTags(inv *inventory) []Violation {
	var out []Violation
	for _, w := range inv.workloads {
		for _, c := range w.containers() {
			if problem := imageref.Unpinned(c.Image); problem != "" {
				out = append(out, Violation{w.id, RuleImageTag, fmt.Sprintf("%s image %q %s", c.label, c.Image, problem)})
			}
		}
	}
	return out
}

// checkLabels: every object carries the recommended labels, managed-by=pulumi.
func checkLabels(inv *inventory) []Violation {
	var out []Violation
	for _, u := range inv.objs {
		labels := u.GetLabels()
		var missing []string
		for _, key := range RecommendedLabels {
			if labels[key] == "" {
				missing = append(missing, key)
			}
		}
		if WorkloadKinds[u.GetKind()] && labels[VersionLabel] == "" {
			missing = append(missing, VersionLabel)
		}
		if len(missing) > 0 {
			out = append(out, Violation{objectID(u), RuleLabels, "missing " + strings.Join(missing, ", ")})
		}
		if v, ok := labels["app.kubernetes.io/managed-by"]; ok && v != ManagedBy {
			out = append(out, Violation{objectID(u), RuleLabels, fmt.Sprintf("app.kubernetes.io/managed-by is %q, want %q", v, ManagedBy)})
		}
	}
	return out
}

// checkServiceSelectors: every Service selects the pods of exactly one workload in its namespace, so
// a label typo cannot leave it without endpoints or mix two components.
func checkServiceSelectors(inv *inventory) []Violation {
	var out []Violation
	for _, u := range inv.objs {
		if u.GetKind() != "Service" {
			continue
		}
		if slices.ContainsFunc(ServiceSelectorExceptions, func(e Exception) bool { return e.matches("Service", u.GetName(), "") }) {
			continue
		}
		selector, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector")
		if len(selector) == 0 {
			out = append(out, Violation{objectID(u), RuleServiceSelector, "has no selector; add one, or list it in ServiceSelectorExceptions with the reason"})
			continue
		}
		var matched []string
		for _, w := range inv.workloads {
			if w.longRunning && namespace(w.obj) == namespace(u) && selects(selector, w) {
				matched = append(matched, w.id)
			}
		}
		switch len(matched) {
		case 1:
		case 0:
			out = append(out, Violation{objectID(u), RuleServiceSelector, fmt.Sprintf("selector %v matches the pods of no workload; fix it, or list the Service in ServiceSelectorExceptions with the reason", selector)})
		default:
			out = append(out, Violation{objectID(u), RuleServiceSelector, fmt.Sprintf("selector %v matches the pods of %d workloads: %s", selector, len(matched), strings.Join(matched, ", "))})
		}
	}
	return out
}

func selects(selector map[string]string, w workload) bool {
	for k, v := range selector {
		if k == appsv1.StatefulSetPodNameLabel && w.obj.GetKind() == "StatefulSet" { // <statefulset>-<ordinal>, set by the controller
			ordinal, ok := strings.CutPrefix(v, w.obj.GetName()+"-")
			i, err := strconv.Atoi(ordinal)
			if !ok || err != nil || i < 0 || int32(i) >= w.replicas || strconv.Itoa(i) != ordinal {
				return false
			}
			continue
		}
		if got, ok := w.podLabels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// checkVolumeMounts: every volumeMount and volumeDevice names a volume of the pod (or a
// volumeClaimTemplate of its StatefulSet).
func checkVolumeMounts(inv *inventory) []Violation {
	var out []Violation
	for _, w := range inv.workloads {
		declared := slices.Clone(w.claims)
		for _, v := range w.pod.Volumes {
			declared = append(declared, v.Name)
		}
		for _, c := range w.containers() {
			var names []string
			for _, m := range c.VolumeMounts {
				names = append(names, m.Name)
			}
			for _, d := range c.VolumeDevices {
				names = append(names, d.Name)
			}
			for _, n := range names {
				if !slices.Contains(declared, n) {
					out = append(out, Violation{w.id, RuleVolumeMounts, fmt.Sprintf("%s mounts volume %q, which the pod does not declare", c.label, n)})
				}
			}
		}
	}
	return out
}

// checkReferences: every ConfigMap and Secret a pod uses (envFrom, env valueFrom, volumes) is created
// by the program in the pod's namespace, with the referenced key, or is listed in ExternalRefs.
func checkReferences(inv *inventory) []Violation {
	var out []Violation
	for _, w := range inv.workloads {
		ns := namespace(w.obj)
		check := func(where, kind, name, key string) {
			keys, created := inv.data[refID(kind, ns, name)]
			switch {
			case !created && !slices.ContainsFunc(ExternalRefs, func(e ExternalRef) bool {
				return e.Kind == kind && e.Namespace == ns && e.Name == name
			}):
				out = append(out, Violation{w.id, RuleReferences, fmt.Sprintf("%s refers to %s %s/%s, which the program does not create; create it, or list it in ExternalRefs with who does", where, kind, ns, name)})
			case created && key != "" && keys != nil && !keys[key]:
				out = append(out, Violation{w.id, RuleReferences, fmt.Sprintf("%s refers to key %q of %s %s/%s, which has no such key", where, key, kind, ns, name)})
			}
		}
		for _, c := range w.containers() {
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil {
					check(c.label+" envFrom", "ConfigMap", ef.ConfigMapRef.Name, "")
				}
				if ef.SecretRef != nil {
					check(c.label+" envFrom", "Secret", ef.SecretRef.Name, "")
				}
			}
			for _, e := range c.Env {
				if e.ValueFrom == nil {
					continue
				}
				if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
					check(c.label+" env "+e.Name, "ConfigMap", r.Name, r.Key)
				}
				if r := e.ValueFrom.SecretKeyRef; r != nil {
					check(c.label+" env "+e.Name, "Secret", r.Name, r.Key)
				}
			}
		}
		for _, v := range w.pod.Volumes {
			where := "volume " + strconv.Quote(v.Name)
			if v.ConfigMap != nil {
				check(where, "ConfigMap", v.ConfigMap.Name, "")
			}
			if v.Secret != nil {
				check(where, "Secret", v.Secret.SecretName, "")
			}
			if v.Projected != nil {
				for _, s := range v.Projected.Sources {
					if s.ConfigMap != nil {
						check(where, "ConfigMap", s.ConfigMap.Name, "")
					}
					if s.Secret != nil {
						check(where, "Secret", s.Secret.Name, "")
					}
				}
			}
		}
	}
	return out
}

// secretKeyName matches ConfigMap keys that name a credential (normalised to upper case and '_').
var (
	secretKeyName = regexp.MustCompile(`PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|API_?KEY|ACCESS_KEY|(^|_)KEY$`)
	nonAlnum      = regexp.MustCompile(`[^A-Za-z0-9]+`)
)

// checkNoPlainSecrets: secrets live in Secrets only. ConfigMaps and annotations are readable by anyone
// who can read the namespace (and annotations show up in `kubectl describe` and events).
func checkNoPlainSecrets(inv *inventory, secretValues []string) []Violation {
	var values []string
	for _, s := range secretValues {
		if len(s) >= 8 { // a shorter value would match by chance
			values = append(values, s)
		}
	}
	leaked := func(s string) bool {
		return slices.ContainsFunc(values, func(v string) bool { return strings.Contains(s, v) })
	}
	var out []Violation
	for _, w := range inv.workloads {
		for _, k := range slices.Sorted(maps.Keys(w.podAnnots)) {
			if leaked(w.podAnnots[k]) {
				out = append(out, Violation{w.id, RuleNoPlainSecrets, fmt.Sprintf("pod template annotation %s holds a secret value", k)})
			}
		}
	}
	for _, u := range inv.objs {
		id := objectID(u)
		annotations := u.GetAnnotations()
		for _, k := range slices.Sorted(maps.Keys(annotations)) {
			if leaked(annotations[k]) {
				out = append(out, Violation{id, RuleNoPlainSecrets, fmt.Sprintf("annotation %s holds a secret value", k)})
			}
		}
		if u.GetKind() != "ConfigMap" {
			continue
		}
		for _, field := range []string{"data", "binaryData"} {
			data, _, _ := unstructured.NestedMap(u.Object, field)
			for _, k := range slices.Sorted(maps.Keys(data)) {
				if v, _ := data[k].(string); leaked(v) {
					out = append(out, Violation{id, RuleNoPlainSecrets, fmt.Sprintf("%s key %s holds a secret value; put it in a Secret", field, k)})
				}
				if secretKeyName.MatchString(strings.ToUpper(nonAlnum.ReplaceAllString(k, "_"))) {
					out = append(out, Violation{id, RuleNoPlainSecrets, fmt.Sprintf("%s key %s looks like a credential; put it in a Secret", field, k)})
				}
			}
		}
	}
	return out
}

// objectID names an object in messages: "Kind namespace/name", or "Kind name" when it has no namespace.
func objectID(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetKind() + " " + u.GetName()
	}
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// namespace is where a namespaced object lands: its namespace, or default when unset.
func namespace(u *unstructured.Unstructured) string {
	if ns := u.GetNamespace(); ns != "" {
		return ns
	}
	return "default"
}

func refID(kind, ns, name string) string { return kind + " " + ns + "/" + name }

// keysOf returns the keys of the named maps of obj, or nil when one of them is not a map (unknown).
func keysOf(obj map[string]any, fields ...string) map[string]bool {
	keys := map[string]bool{}
	for _, f := range fields {
		v, ok := obj[f]
		if !ok || v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for k := range m {
			keys[k] = true
		}
	}
	return keys
}
