package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MissingExtensions returns the aliases of sc.Requires that the server at
// base does not list on /v2.0/extensions (token: an X-Auth-Token, or "").
func MissingExtensions(ctx context.Context, base, token string, sc *Scenario) ([]string, error) {
	if len(sc.Requires) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/v2.0/extensions", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /v2.0/extensions: status %d", resp.StatusCode)
	}
	var body struct {
		Extensions []struct {
			Alias string `json:"alias"`
		} `json:"extensions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, fmt.Errorf("GET /v2.0/extensions: %v", err)
	}
	have := map[string]bool{}
	for _, e := range body.Extensions {
		have[e.Alias] = true
	}
	var missing []string
	for _, a := range sc.Requires {
		if !have[a] {
			missing = append(missing, a)
		}
	}
	return missing, nil
}
