//go:build !unix

package cache

import "testing"

func platformCorruptCases(*testing.T) []corruptCase { return nil }
