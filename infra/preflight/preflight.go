// Package preflight asks AWS what validation of the config alone cannot know, before the program
// registers any resource: whether the hosted zone of app.dns exists and holds the hostname. Each
// problem names its config key and the fix, like validation, and all are reported at once.
package preflight

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/openneuro/openneuro-infra/stacks"
)

// Facts are what the checks learnt and the program needs.
type Facts struct {
	// HostedZoneID is the id of app.dns's hosted zone; "" without app.dns.
	HostedZoneID string
}

// Check runs the checks of an eks-mode stack (validated config) and returns what they learnt.
func Check(ctx *pulumi.Context, cfg *stacks.Config) (*Facts, error) {
	facts := &Facts{}
	var errs []error
	if cfg.OpenNeuro.DNS != "" {
		id, err := hostedZone(ctx, cfg.OpenNeuro)
		facts.HostedZoneID = id
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return facts, nil
}

// hostedZone finds app.dns's zone and checks that it is public and holds app.hostname.
func hostedZone(ctx *pulumi.Context, app stacks.OpenNeuro) (string, error) {
	id, name := app.HostedZone()
	args := &route53.LookupZoneArgs{PrivateZone: pulumi.BoolRef(false)}
	if id != "" {
		args.ZoneId = &id
	} else {
		args.Name = &name
	}
	zone, err := route53.LookupZone(ctx, args)
	if err != nil {
		return "", fmt.Errorf("app.dns: no public Route 53 hosted zone %q in this account (%v); create it, or name one `aws route53 list-hosted-zones` shows", app.DNS, err)
	}
	if zone.PrivateZone != nil && *zone.PrivateZone {
		return "", fmt.Errorf("app.dns: %s is a private hosted zone; ACM validates and users resolve the site through a public zone", app.DNS)
	}
	if !stacks.InZone(app.Hostname, zone.Name) {
		return "", fmt.Errorf("app.dns: the zone %s (%s) does not hold app.hostname %s; use the zone that does", zone.Name, zone.ZoneId, app.Hostname)
	}
	return zone.ZoneId, nil
}
