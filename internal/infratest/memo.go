package infratest

import (
	"slices"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Memo keeps one value per key for the life of a test binary, so that the tests of a package read
// one mock run of a stack instead of repeating the same deterministic run. The first test to ask
// computes the value (compute may fail that test); a value that failed there fails every later test
// that asks for it. Safe for parallel tests. Shared values are read-only: a Recorder hands out copies
// of its resources, and a package's own result types must not be changed by its tests.
type Memo[T any] struct {
	mu      sync.Mutex
	entries map[string]*memoEntry[T]
}

type memoEntry[T any] struct {
	once   sync.Once
	value  T
	failed bool
}

// Get returns the value of key, computing it on first use.
func (s *Memo[T]) Get(t testing.TB, key string, compute func() T) T {
	t.Helper()
	s.mu.Lock()
	if s.entries == nil {
		s.entries = map[string]*memoEntry[T]{}
	}
	e, ok := s.entries[key]
	if !ok {
		e = &memoEntry[T]{}
		s.entries[key] = e
	}
	s.mu.Unlock()
	e.once.Do(func() {
		done := false
		defer func() { e.failed = !done }() // t.Fatal in compute ends the goroutine here
		e.value = compute()
		done = true
	})
	if e.failed {
		t.Fatalf("shared run %q failed in an earlier test; see that test's error", key)
	}
	return e.value
}

var shared Memo[*Recorder]

// RunShared is Run(t, stack) without options, run once per test binary and shared by every test that
// asks: a test that needs a fresh run (e.g. to compare two runs) calls Run.
func RunShared(t testing.TB, stack string) *Recorder {
	t.Helper()
	return shared.Get(t, stack, func() *Recorder { return Run(t, stack) })
}

// copyResource returns r with every slice and map copied, so that a caller cannot change what the
// recorder holds (a Recorder may be shared between tests).
func copyResource(r Resource) Resource {
	r.DependsOn = slices.Clone(r.DependsOn)
	r.IgnoreChanges = slices.Clone(r.IgnoreChanges)
	r.AliasURNs = slices.Clone(r.AliasURNs)
	r.Transforms = slices.Clone(r.Transforms)
	if r.PropertyDependencies != nil {
		deps := make(map[string][]string, len(r.PropertyDependencies))
		for k, v := range r.PropertyDependencies {
			deps[k] = slices.Clone(v)
		}
		r.PropertyDependencies = deps
	}
	r.Inputs = copyProperties(r.Inputs)
	r.Outputs = copyProperties(r.Outputs)
	return r
}

func copyProperties(m resource.PropertyMap) resource.PropertyMap {
	if m == nil {
		return nil
	}
	out := make(resource.PropertyMap, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

// copyValue copies the containers of a property value; leaves (strings, numbers, bools, assets,
// resource references) are values or never changed.
func copyValue(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]resource.PropertyValue, len(arr))
		for i, e := range arr {
			out[i] = copyValue(e)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		return resource.NewObjectProperty(copyProperties(v.ObjectValue()))
	case v.IsSecret():
		return resource.MakeSecret(copyValue(v.SecretValue().Element))
	case v.IsComputed():
		return resource.MakeComputed(copyValue(v.Input().Element))
	case v.IsOutput():
		o := v.OutputValue()
		o.Element = copyValue(o.Element)
		o.Dependencies = slices.Clone(o.Dependencies)
		return resource.NewOutputProperty(o)
	}
	return v
}

// Run returns run() made once per stack and shared when opts is empty, and a fresh run(opts...)
// otherwise: a run with options serves the one test that asked for it.
func (s *Memo[T]) Run(t testing.TB, stack string, opts []Option, run func(opts ...Option) T) T {
	t.Helper()
	if len(opts) > 0 {
		return run(opts...)
	}
	return s.Get(t, stack, func() T { return run() })
}
