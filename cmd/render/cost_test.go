package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/openneuro/openneuro-infra/internal/infratest"
	"github.com/openneuro/openneuro-infra/internal/stackconfig"
)

// TestPriceTableShape: every price is positive, has a unit, a source and a date; every billed type
// names only prices of the table or entries of the unpriced list.
func TestPriceTableShape(t *testing.T) {
	date := regexp.MustCompile(`^\d{4}(-\d{2}(-\d{2})?)?$`)
	for key, p := range prices {
		if p.USD <= 0 || p.Unit == "" || p.Source == "" || !date.MatchString(p.Date) {
			t.Errorf("%s: %+v; want a positive price, a unit, a source and a date (YYYY[-MM[-DD]])", key, p)
		}
		if !strings.HasPrefix(p.Source, "AWS") && !strings.HasPrefix(p.Source, "third-party") {
			t.Errorf("%s: source %q does not say whether it is AWS's or a third party's", key, p.Source)
		}
		if _, dup := unpriced[key]; dup {
			t.Errorf("%s is both priced and unpriced", key)
		}
	}
	for typ, keys := range billable {
		if len(keys) == 0 {
			t.Errorf("%s is billable with nothing to bill", typ)
		}
		for _, k := range keys {
			_, priced := prices[k]
			_, missing := unpriced[k]
			if !priced && !missing {
				t.Errorf("%s bills %q, which is neither in the price table nor in the unpriced list", typ, k)
			}
		}
		if free[typ] {
			t.Errorf("%s is both billable and free", typ)
		}
	}
}

// TestEveryRenderedTypeIsPriced: every resource type of every stack's render (and of the optional
// ECR endpoints) is billed or known to be free, so a new kind of resource cannot slip past cost.txt;
// the fixed lines each stack must show are there, with their amounts.
func TestEveryRenderedTypeIsPriced(t *testing.T) {
	stacks, err := stackconfig.Stacks()
	if err != nil {
		t.Fatal(err)
	}
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			rec := infratest.Run(t, stack, infratest.WithValue("network.endpoints.ecr", stack != "local"))
			for _, r := range rec.Resources() {
				if !IsPricedOrFree(r.Type) {
					t.Errorf("%s (%s) is neither priced nor known to be free; add it to cmd/render/cost.go", r.Type, r.Name)
				}
			}
			txt := writeCost(rec, rec.Region())
			if stack == "local" {
				if strings.Contains(txt, "EKS control plane") || strings.Contains(txt, "ALB of the site") {
					t.Errorf("an existing cluster is billed for AWS resources:\n%s", txt)
				}
				return
			}
			for _, want := range []string{
				"$73.00  EKS control plane",
				"$32.85  NAT gateway",
				"$16.43  ALB of the site",
				"$10.95  public IPv4 of the ALB in 3 zones",
				"$21.90  interface endpoint network-ecr-api in 3 zones",
				"$30.00  EFS Standard at the openneuro-datasets claim's 100Gi",
				"ASSUMED 30 GB a month",
				"not priced: EC2 on-demand prices",
				"Not priced (no sourced price; not in the total):",
			} {
				if !strings.Contains(txt, want) {
					t.Errorf("cost.txt lacks %q:\n%s", want, txt)
				}
			}
			if (rec.Region() != "us-east-1") != strings.Contains(txt, "PRICES ARE us-east-1's") {
				t.Errorf("region %s: the us-east-1 note is wrong:\n%s", rec.Region(), txt)
			}
		})
	}
}
