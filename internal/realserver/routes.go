package realserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Counters are the server's request counters (GET /counters); requests to
// /counters itself are not counted.
type Counters struct {
	Logins       int `json:"logins"`       // POST /.auth/login/custom, successful or not
	Refreshes    int `json:"refreshes"`    // GET /.auth/refresh, successful or not
	Unauthorized int `json:"unauthorized"` // responses with status 401, on any route
	Requests     int `json:"requests"`     // all requests
}

// Counters reads GET /counters.
func (s *Server) Counters(ctx context.Context) (Counters, error) {
	var c Counters
	err := s.call(ctx, http.MethodGet, "counters", &c)
	return c, err
}

// ResetCounters sets every counter back to zero (POST /counters/reset).
func (s *Server) ResetCounters(ctx context.Context) error {
	return s.call(ctx, http.MethodPost, "counters/reset", nil)
}

// Seed inserts items (anything that marshals to a JSON array of objects:
// a slice of structs or maps) into table in one sqlite transaction through
// server.js's POST /seed/{table}: the INSERT the sqlite provider runs for a
// client insert, without one HTTP request and one commit per row. Items
// without an id get a GUID. It bypasses access checks (and is counted as one
// request). Nothing is inserted when it fails.
func (s *Server) Seed(ctx context.Context, table string, items any) error {
	body, err := json.Marshal(items)
	if err != nil {
		return fmt.Errorf("realserver: seed %s: %w", table, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"seed/"+url.PathEscape(table), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := *s.client
	client.Timeout = 2 * time.Minute
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("realserver: seed %s: %w", table, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("realserver: seed %s: %s: %s", table, resp.Status, raw)
	}
	return nil
}

// Login signs in through the server's POST /.auth/login/custom and returns
// the token and user id it answered.
func (s *Server) Login(ctx context.Context, username, password string) (token, userID string, err error) {
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+".auth/login/custom", bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", "", fmt.Errorf("realserver: login: %w", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("realserver: login: %s: %s", resp.Status, raw)
	}
	var lr struct {
		Token string `json:"authenticationToken"`
		User  struct {
			UserID string `json:"userId"`
		} `json:"user"`
	}
	if err := json.Unmarshal(raw, &lr); err != nil {
		return "", "", fmt.Errorf("realserver: login: %w", err)
	}
	return lr.Token, lr.User.UserID, nil
}

func (s *Server) call(ctx context.Context, method, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("realserver: %s /%s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("realserver: %s /%s: %s: %s", method, path, resp.Status, raw)
	}
	if into != nil {
		if err := json.Unmarshal(raw, into); err != nil {
			return fmt.Errorf("realserver: %s /%s: %w", method, path, err)
		}
	}
	return nil
}
