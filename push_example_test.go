package zumo_test

import (
	"context"
	"fmt"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/zumotest"
)

func ExamplePush_Register() {
	srv := zumotest.New()
	srv.Start()
	defer srv.Close()

	// In an app: zumo.InstallationIDFile(path), so the id survives restarts.
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	client, err := zumo.NewClient(srv.URL, zumo.WithInstallationID(id))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	err = client.Push().Register(ctx, zumo.Installation{
		PushChannel: "9F2A0C",
		Platform:    zumo.PlatformAPNS,
		Templates: map[string]zumo.PushTemplate{
			"alert": {Body: `{"aps":{"alert":"$(message)"}}`},
		},
	})
	fmt.Println("registered:", err)
	in, _ := srv.Installation(id)
	fmt.Println(in.Platform, in.PushChannel, in.Templates["alert"].Body)

	err = client.Push().Register(ctx, zumo.Installation{PushChannel: "x", Platform: "fcm"})
	fmt.Println(err)

	fmt.Println("unregistered:", client.Push().Unregister(ctx))
	_, ok := srv.Installation(id)
	fmt.Println("still there:", ok)
	// Output:
	// registered: <nil>
	// apns 9f2a0c {"aps":{"alert":"$(message)"}}
	// zumo: invalid push installation: platform "fcm" is not wns, apns or gcm
	// unregistered: <nil>
	// still there: false
}
