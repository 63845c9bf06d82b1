package stacks

import (
	"errors"

	"k8s.io/apimachinery/pkg/api/resource"
)

// parseQuantity parses a Kubernetes quantity, rejecting the empty string and zero or negative amounts.
func parseQuantity(s string) (resource.Quantity, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return q, err
	}
	if q.Sign() <= 0 {
		return q, errors.New("not positive")
	}
	return q, nil
}
