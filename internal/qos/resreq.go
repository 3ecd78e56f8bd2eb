package qos

import (
	"context"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"github.com/neutrino-os/neutrino/internal/api"
	"github.com/neutrino-os/neutrino/internal/db"
	"github.com/neutrino-os/neutrino/internal/store"
)

// loadResourceRequests fills the ports' resource_request
// (port-resource-request, port-resource-request-groups): the Placement
// request groups of the minimum rules of the policy a port uses (its own,
// else its network's). One query per rule table and one for the
// networks' first segments, for the whole batch.
func loadResourceRequests(ctx context.Context, q db.Querier, objs []api.Object) error {
	policyOf := map[string]string{}
	var policies, networks []string
	seenP, seenN := map[string]bool{}, map[string]bool{}
	for _, o := range objs {
		o["resource_request"] = nil
		pid := str(o["qos_policy_id"])
		if pid == "" {
			pid = str(o["qos_network_policy_id"])
		}
		if pid == "" {
			continue
		}
		id := str(o["id"])
		policyOf[id] = pid
		if !seenP[pid] {
			seenP[pid] = true
			policies = append(policies, pid)
		}
		if n := str(o["network_id"]); !seenN[n] {
			seenN[n] = true
			networks = append(networks, n)
		}
	}
	if len(policies) == 0 {
		return nil
	}
	rules, err := rulesOf(ctx, q, policies)
	if err != nil {
		return err
	}
	physnets, err := firstPhysnets(ctx, q, networks)
	if err != nil {
		return err
	}
	for _, o := range objs {
		pid, ok := policyOf[str(o["id"])]
		if !ok {
			continue
		}
		o["resource_request"] = resourceRequest(str(o["id"]), str(o["binding:vnic_type"]), physnets[str(o["network_id"])], rules[pid])
	}
	return nil
}

// firstPhysnets maps networks to their first segment's physical network.
func firstPhysnets(ctx context.Context, q db.Querier, networks []string) (map[string]string, error) {
	out := map[string]string{}
	err := store.ForChunks(networks, func(ph string, args []any) error {
		rows, err := q.Query(ctx, "SELECT network_id, physical_network FROM network_segments WHERE network_id IN ("+ph+") ORDER BY network_id, segment_index DESC, id DESC", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var n string
			var pn *string
			if err := rows.Scan(&n, &pn); err != nil {
				return err
			}
			out[n] = "" // the last row of a network is its first segment
			if pn != nil {
				out[n] = *pn
			}
		}
		return rows.Err()
	})
	return out, err
}

// resourceRequest builds a port's resource_request from its policy's
// rules, or nil when no group applies.
func resourceRequest(port, vnic, physnet string, rules []api.Object) any {
	var bw, pps []api.Object
	for _, r := range rules {
		switch r["type"] {
		case MinimumBandwidth:
			bw = append(bw, r)
		case MinimumPacketRate:
			pps = append(pps, r)
		}
	}
	ns, err := uuid.Parse(port)
	if err != nil {
		return nil
	}
	var groups []any
	if len(bw) > 0 && physnet != "" {
		res := map[string]any{}
		for _, r := range bw {
			if r["direction"] == "ingress" {
				res["NET_BW_IGR_KILOBIT_PER_SEC"] = r["min_kbps"]
			} else {
				res["NET_BW_EGR_KILOBIT_PER_SEC"] = r["min_kbps"]
			}
		}
		groups = append(groups, map[string]any{"id": groupID(ns, bw),
			"required": []any{trait("CUSTOM_PHYSNET_" + physnet), trait("CUSTOM_VNIC_TYPE_" + vnic)}, "resources": res})
	}
	if len(pps) > 0 {
		res := map[string]any{}
		for _, r := range pps {
			switch r["direction"] {
			case "ingress":
				res["NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC"] = r["min_kpps"]
			case "egress":
				res["NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC"] = r["min_kpps"]
			default:
				res["NET_PACKET_RATE_KILOPACKET_PER_SEC"] = r["min_kpps"]
			}
		}
		groups = append(groups, map[string]any{"id": groupID(ns, pps),
			"required": []any{trait("CUSTOM_VNIC_TYPE_" + vnic)}, "resources": res})
	}
	if len(groups) == 0 {
		return nil
	}
	ids := make([]any, len(groups))
	for i, g := range groups {
		ids[i] = g.(map[string]any)["id"]
	}
	return map[string]any{"request_groups": groups, "same_subtree": ids}
}

// groupID is resource_request_group_uuid: UUIDv5 in the port's namespace
// of the group's rule ids joined by ":".
func groupID(ns uuid.UUID, rules []api.Object) string {
	ids := make([]string, len(rules))
	for i, r := range rules {
		ids[i] = str(r["id"])
	}
	return uuid.NewSHA1(ns, []byte(strings.Join(ids, ":"))).String()
}

var nonTraitChars = regexp.MustCompile(`[^0-9A-Za-z]+`)

// trait is os_traits.normalize_name on a CUSTOM_ name.
func trait(name string) string {
	rest := strings.TrimPrefix(name, "CUSTOM_")
	return "CUSTOM_" + strings.ToUpper(nonTraitChars.ReplaceAllString(rest, "_"))
}
