package rpc

import (
	"context"

	"github.com/neutrino-os/neutrino/internal/rpc/oslo"
)

func init() { parts = append(parts, setupPull) }

// setupPull: ResourcesPullRpcCallback 1.1 on q-plugin: pull and bulk_pull
// of the objects agents cache (answered at the server's version of each
// type; an older version asked for is answered with the same fields,
// which the Zed agents' versions are). A Trunk is pulled by its parent
// port (trunk_by_port_provider: the agent's get_trunk_details).
func setupPull(s *Service) error {
	s.Add(TopicPlugin, oslo.Endpoint{Version: "1.1", Methods: map[string]oslo.Handler{
		"bulk_pull": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				ResourceType string           `json:"resource_type"`
				FilterKwargs map[string][]any `json:"filter_kwargs"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			return s.objects(ctx, a.ResourceType, a.FilterKwargs)
		},
		"pull": func(ctx context.Context, req *oslo.Request) (any, error) {
			var a struct {
				ResourceType string `json:"resource_type"`
				ResourceID   string `json:"resource_id"`
			}
			if err := req.Args.Into(&a); err != nil {
				return nil, err
			}
			key := "id"
			if a.ResourceType == "Trunk" {
				key = "port_id"
			}
			objs, err := s.objects(ctx, a.ResourceType, map[string][]any{key: {a.ResourceID}})
			if err != nil || len(objs) == 0 {
				return nil, err
			}
			return objs[0], nil
		},
	}})
	return nil
}
