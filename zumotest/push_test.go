package zumotest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPushRegister(t *testing.T) {
	s := NewServer(t)
	body := `{"pushChannel":"https://wns.example/ch","platform":"wns","tags":["vip"],` +
		`"templates":{"t1":{"body":"<toast>$(msg)</toast>","tags":["news"]}}}`
	r := do(t, s, req{method: http.MethodPut, path: "/push/installations/inst-1", body: body})
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)

	in, ok := s.Installation("inst-1")
	require.True(t, ok)
	assert.Equal(t, "inst-1", in.ID)
	assert.Equal(t, "https://wns.example/ch", in.PushChannel)
	assert.Equal(t, "wns", in.Platform)
	assert.Equal(t, map[string]InstallationTemplate{"t1": {Body: "<toast>$(msg)</toast>", Tags: []string{"news"}}}, in.Templates)
	assert.Empty(t, in.Tags, "top-level tags from the client are dropped; an anonymous user gets none")
	assert.Empty(t, in.UserID)
	assert.JSONEq(t, body, string(in.Body), "the body is kept as sent")
	assert.Equal(t, 1, s.Stats().Routes["PUT /push/installations/{id}"])

	// A signed-in user's registration is tied to the user and replaces the old one.
	tok := s.IssueToken("sid:ann", 0)
	r = do(t, s, req{method: http.MethodPut, path: "/push/installations/inst-1", header: auth(tok),
		body: `{"pushChannel":"0a1b","platform":"apns"}`})
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	in, ok = s.Installation("inst-1")
	require.True(t, ok)
	assert.Equal(t, "sid:ann", in.UserID)
	assert.Equal(t, []string{"_UserId:sid:ann"}, in.Tags)
	assert.Nil(t, in.Templates)
	assert.Equal(t, "apns", in.Platform)

	r = do(t, s, req{method: http.MethodPut, path: "/push/installations/a%2Fb", body: `{"pushChannel":"x","platform":"gcm"}`})
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r.Body)
	all := s.Installations()
	require.Len(t, all, 2)
	assert.Equal(t, "a/b", all[0].ID, "escaped ids are decoded; the list is sorted")
	assert.Equal(t, "inst-1", all[1].ID)

	// Unregister: 204 whether it was there or not.
	for range 2 {
		r = do(t, s, req{method: http.MethodDelete, path: "/push/installations/inst-1"})
		assert.Equal(t, http.StatusNoContent, r.Status)
		_, ok = s.Installation("inst-1")
		assert.False(t, ok)
	}
	assert.Len(t, s.Installations(), 1)

	r = do(t, s, req{method: http.MethodPut, path: "/push/installations/x", header: auth("not-a-token"), body: `{"pushChannel":"x","platform":"gcm"}`})
	assert.Equal(t, http.StatusUnauthorized, r.Status, "a bad token is refused as on every route")
}

func TestPushRegisterRejects(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   string
		status int
	}{
		{"not JSON", http.MethodPut, `{`, http.StatusBadRequest},
		{"an array", http.MethodPut, `[]`, http.StatusBadRequest},
		{"empty", http.MethodPut, ``, http.StatusBadRequest},
		{"no channel", http.MethodPut, `{"platform":"wns"}`, http.StatusBadRequest},
		{"channel not a string", http.MethodPut, `{"pushChannel":1,"platform":"wns"}`, http.StatusBadRequest},
		{"unknown platform", http.MethodPut, `{"pushChannel":"x","platform":"fcm"}`, http.StatusBadRequest},
		{"platform in upper case", http.MethodPut, `{"pushChannel":"x","platform":"WNS"}`, http.StatusBadRequest},
		{"template body an object", http.MethodPut, `{"pushChannel":"x","platform":"gcm","templates":{"t":{"body":{"a":1}}}}`, http.StatusBadRequest},
		{"template body empty", http.MethodPut, `{"pushChannel":"x","platform":"gcm","templates":{"t":{"body":""}}}`, http.StatusBadRequest},
		{"template null", http.MethodPut, `{"pushChannel":"x","platform":"gcm","templates":{"t":null}}`, http.StatusBadRequest},
		{"template tags not strings", http.MethodPut, `{"pushChannel":"x","platform":"gcm","templates":{"t":{"body":"b","tags":[1]}}}`, http.StatusBadRequest},
		{"POST", http.MethodPost, `{"pushChannel":"x","platform":"gcm"}`, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t)
			r := do(t, s, req{method: tt.method, path: "/push/installations/i", body: tt.body})
			assert.Equal(t, tt.status, r.Status, "%s", r.Body)
			assert.NotEmpty(t, r.errMsg(t))
			assert.Empty(t, s.Installations(), "nothing is stored")
		})
	}
}
