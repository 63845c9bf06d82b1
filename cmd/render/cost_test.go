package main

import (
	"fmt"
	"math"
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
	for typ, usd := range ec2OnDemand {
		if usd <= 0 || !regexp.MustCompile(`^[a-z][a-z0-9-]*\.[0-9]*[a-z]+$`).MatchString(typ) {
			t.Errorf("ec2OnDemand[%q] = %g; want an instance type and a positive price", typ, usd)
		}
	}
	if !strings.HasPrefix(ec2OnDemandSource.Source, "AWS") || !date.MatchString(ec2OnDemandSource.Date) {
		t.Errorf("the EC2 prices' source %+v has no AWS origin or date", ec2OnDemandSource)
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
			wants := []string{
				"$73.00  EKS control plane",
				"$32.85  NAT gateway",
				"$16.43  ALB of the site",
				"$10.95  public IPv4 of the ALB in 3 zones",
				"$21.90  interface endpoint network-ecr-api in 3 zones",
				"$30.00  EFS Standard at the openneuro-datasets claim's 100Gi",
				"$5.00  AWS Backup of that file system",
				"$1.00  KMS key operations-backup-key",
				"ASSUMED 30 GB a month",
			}
			// Each node group at its desired size: 3 Spot nodes priced at the dearest type's
			// on-demand price (m5.large, $0.096), 4 m5a.large ($0.086), 3 i3en.large ($0.226); and
			// their 50 GiB gp3 root volumes.
			wants = append(wants, map[string][]string{
				"staging": {"$210.24  node group cluster-default: 3 x [m5a.large m5.large m6a.large], SPOT", "(Spot: at most this)",
					"$494.94  node group cluster-edgefs-target: 3 x [i3en.large]", "$12.00  root volumes of cluster-default: 3 x 50 GiB gp3",
					"Spot instances: billed at the Spot price"},
				"prod": {"$251.12  node group cluster-default: 4 x [m5a.large], ON_DEMAND", "$494.94  node group cluster-edgefs-target: 3 x [i3en.large]",
					"$16.00  root volumes of cluster-default: 4 x 50 GiB gp3", "EC2 price factor 1.000"},
			}[stack]...)
			for _, want := range wants {
				if !strings.Contains(txt, want) {
					t.Errorf("cost.txt lacks %q:\n%s", want, txt)
				}
			}
			if strings.Contains(txt, "not priced: ") {
				t.Errorf("a line is not priced:\n%s", txt)
			}
			if strings.Contains(txt, "PRICES ARE us-east-1's") {
				t.Errorf("region %s has a factor, but cost.txt says it has none:\n%s", rec.Region(), txt)
			}
		})
	}
}

// TestCurrentGenerationCost: the workers' gp3 claim templates are priced per replica and their
// snapshots counted, because the backup plan selects them; redis's volume is priced but, excluded
// from the plan, has no snapshot line.
func TestCurrentGenerationCost(t *testing.T) {
	rec := infratest.Run(t, infratest.CurrentStack, infratest.Current()...)
	txt := writeCost(rec, rec.Region())
	for _, want := range []string{
		"$5518.80  node group cluster-default: 15 x [r5.2xlarge], ON_DEMAND", // 15 x 730 h x $0.504
		"$81.92  gp3 volumes of openneuro-dataset-worker (datasets): 4 x 256Gi",
		"$51.20  AWS Backup snapshots of those volumes",
		"$0.64  gp3 volumes of openneuro-redis-data: 1 x 8Gi",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("cost.txt lacks %q:\n%s", want, txt)
		}
	}
	if n := strings.Count(txt, "AWS Backup snapshots"); n != 1 {
		t.Errorf("%d snapshot lines; want the workers' only (redis is excluded from the plan):\n%s", n, txt)
	}
	if strings.Contains(txt, "EFS Standard at") {
		t.Errorf("the current generation has no EFS, but cost.txt prices one:\n%s", txt)
	}
}

// TestBackupLinesFollowThePlan: with AWS Backup off, and EFS's own backups off too, nothing is
// priced as a backup.
func TestBackupLinesFollowThePlan(t *testing.T) {
	rec := infratest.Run(t, "prod", infratest.WithValue("operations.backup.enabled", false), infratest.WithValue("storage.efs.backups", false))
	txt := writeCost(rec, rec.Region())
	if strings.Contains(txt, "AWS Backup of") || strings.Contains(txt, "AWS Backup snapshots") || strings.Contains(txt, "KMS key operations-backup-key") {
		t.Errorf("backups priced although none are made:\n%s", txt)
	}
	if !strings.Contains(txt, "$30.00  EFS Standard") {
		t.Errorf("the file system itself is still there:\n%s", txt)
	}
}

// TestRegionFactor: a region with a sourced m5a.large price scales the instance lines by its ratio
// to us-east-1's; an unknown region is not scaled (and cost.txt says so).
func TestRegionFactor(t *testing.T) {
	for _, tc := range []struct {
		region string
		factor float64
		scaled bool
	}{{"us-east-1", 1, false}, {"us-west-2", 1, true}, {"eu-west-1", 0.096 / 0.086, true}, {"eu-central-1", 0.104 / 0.086, true}, {"ap-south-1", 1, false}} {
		factor, scaled := regionFactor(tc.region)
		if math.Abs(factor-tc.factor) > 1e-9 || scaled != tc.scaled {
			t.Errorf("%s: factor %g (scaled %v), want %g (%v)", tc.region, factor, scaled, tc.factor, tc.scaled)
		}
	}
	rec := infratest.RunShared(t, "prod")
	if txt := writeCost(rec, "ap-south-1"); !strings.Contains(txt, "PRICES ARE us-east-1's: this stack is in ap-south-1") {
		t.Errorf("an unknown region is not flagged:\n%s", txt)
	}
	scaled := fmt.Sprintf("$%.2f  node group cluster-edgefs-target", 3*730*0.226*0.104/0.086)
	if txt := writeCost(rec, "eu-central-1"); !strings.Contains(txt, scaled) {
		t.Errorf("eu-central-1's instances are not scaled:\n%s", txt)
	}
}

// TestUnknownInstanceTypeIsNotGuessed: an instance type outside the table is listed as not priced,
// left out of the total, and named in the list of what is missing.
func TestUnknownInstanceTypeIsNotGuessed(t *testing.T) {
	rec := infratest.Run(t, "prod", infratest.WithValue("cluster.defaultNodeGroup.instanceType", "c6i.large"))
	txt := writeCost(rec, rec.Region())
	for _, want := range []string{"-  node group cluster-default: 4 x [c6i.large]", "not priced: " + unpriced["ec2-instance"], "  - " + unpriced["ec2-instance"]} {
		if !strings.Contains(txt, want) {
			t.Errorf("cost.txt lacks %q:\n%s", want, txt)
		}
	}
}
