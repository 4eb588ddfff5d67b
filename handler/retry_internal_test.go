package handler

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// The backoff is tested here, inside the package, because its jitter is
// random: the test replaces the random source of one Retry value. Through
// the public API the delays are checked against their ranges (retry_test.go).

// maxRand makes full jitter pick the top of its range.
func maxRand(n int64) int64 { return n - 1 }

func TestRetryBackoff(t *testing.T) {
	tests := []struct {
		name      string
		opts      []RetryOption
		rand      func(int64) int64
		want      []time.Duration
		wantRandN []int64
	}{
		{
			name: "defaults at the top of the jitter range",
			rand: maxRand,
			want: []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second},
			wantRandN: []int64{int64(500*time.Millisecond) + 1, int64(time.Second) + 1,
				int64(2*time.Second) + 1},
		},
		{
			name: "full jitter can pick zero",
			rand: func(int64) int64 { return 0 },
			want: []time.Duration{0, 0, 0},
		},
		{
			name: "doubling capped at the max delay",
			opts: []RetryOption{RetryMaxAttempts(7), RetryBaseDelay(time.Second),
				RetryMaxDelay(5 * time.Second)},
			rand: maxRand,
			want: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second,
				5 * time.Second, 5 * time.Second},
		},
		{
			name: "no overflow with huge delays",
			opts: []RetryOption{RetryMaxAttempts(6), RetryBaseDelay(1 << 61),
				RetryMaxDelay(1<<63 - 2)},
			rand: maxRand,
			want: []time.Duration{1 << 61, 1 << 62, 1<<63 - 2, 1<<63 - 2, 1<<63 - 2},
		},
		{
			name: "zero base delay",
			opts: []RetryOption{RetryBaseDelay(0)},
			rand: func(int64) int64 { panic("rand must not be called for an empty range") },
			want: []time.Duration{0, 0, 0},
		},
		{
			name: "max delay below base",
			opts: []RetryOption{RetryBaseDelay(time.Second), RetryMaxDelay(300 * time.Millisecond)},
			rand: maxRand,
			want: []time.Duration{300 * time.Millisecond, 300 * time.Millisecond, 300 * time.Millisecond},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Retry(tt.opts...).(*retry)
			var ns []int64
			r.c.randN = func(n int64) int64 {
				ns = append(ns, n)
				return tt.rand(n)
			}
			var got []time.Duration
			for n := 1; n < r.c.maxAttempts; n++ {
				got = append(got, r.backoff(n))
			}
			assert.Equal(t, tt.want, got)
			if tt.wantRandN != nil {
				assert.Equal(t, tt.wantRandN, ns)
			}
		})
	}
}
