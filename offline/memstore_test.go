package offline_test

import (
	"testing"

	"github.com/zumo-go/zumo/offline"
	"github.com/zumo-go/zumo/offline/offlinetest"
)

func TestMemoryStore(t *testing.T) {
	offlinetest.Run(t, func(*testing.T) offline.Store { return offline.NewMemoryStore() })
}
