#!/usr/bin/env bash
# The official JavaScript client (npm azure-mobile-apps-client 2.0.1, in
# Node with an XMLHttpRequest shim) against zumo serve and against
# Microsoft's Node server (internal/realserver/js): the two transcripts of
# check.js must be identical, except the "known:" lines, where zumo serve
# must give the right answer. Then the same steps in a real browser
# (chromium-headless-shell), bundled with browserify into a page served
# from another origin, against zumo serve --cors: the transcript must be
# the Node one, line for line.
#
#   bash cmd/zumo/jsclient/run.sh PATH/TO/zumo
set -euo pipefail
zumo=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
realjs=$(cd "$here/../../../internal/realserver/js" && pwd)

install() { # npm ci in $1 unless node_modules matches its lockfile
  if [ ! -d "$1/node_modules" ] || [ "$1/package-lock.json" -nt "$1/node_modules" ]; then
    if [ -z "${npm_config_nodedir:-}" ] && [ -d /usr/include/node ]; then export npm_config_nodedir=/usr; fi
    (cd "$1" && npm ci --no-audit --no-fund >/dev/null)
  fi
}
install "$here"
install "$realjs"

tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

waitfor() { # waitfor FILE PATTERN: up to 60 s
  for _ in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "timed out waiting for $2 in $1:"; cat "$1"; return 1
}

"$zumo" serve --addr 127.0.0.1:0 --url-file "$tmp/zumo.url" --user ann:pw --soft-delete --api echo --quiet >"$tmp/zumo.log" 2>&1 &
pids+=($!)
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
(cd "$realjs" && PORT=$port ZUMO_SECRET=jsclient-check ZUMO_USERS=ann:pw exec node server.js) >"$tmp/node.log" 2>&1 &
pids+=($!)
waitfor "$tmp/zumo.url" http
waitfor "$tmp/node.log" listening

node "$here/check.js" "$(cat "$tmp/zumo.url")" ann pw >"$tmp/zumo.txt"
node "$here/check.js" "http://127.0.0.1:$port" ann pw >"$tmp/node.txt"

status=0
if ! diff -u <(grep -v '^known:' "$tmp/node.txt") <(grep -v '^known:' "$tmp/zumo.txt"); then
  echo "FAIL: the official JS client saw zumo serve differently from the Node server (- node, + zumo serve)"
  status=1
fi
for want in \
  'known: {"step":"startswith","value":["oat milk"]}' \
  'known: {"step":"paging","value":{"rows":120,"pages":3,"outcome":"ok"}}'; do
  if ! grep -qxF "$want" "$tmp/zumo.txt"; then
    echo "FAIL: zumo serve: want the line $want"; grep '^known:' "$tmp/zumo.txt"; status=1
  fi
done
# The browser: a fresh emulator that allows the page's origin.
chromium=$(command -v chromium-headless-shell || command -v chromium || true)
if [ -z "$chromium" ]; then
  if [ "${CI:-}" = true ]; then echo "FAIL: no chromium-headless-shell for the browser check"; status=1; fi
  echo "no chromium-headless-shell: the browser check did not run"
else
  (cd "$here" && npx browserify browser.js -o "$tmp/bundle.js")
  node "$here/page-server.js" "$tmp/bundle.js" >"$tmp/page.port" &
  pids+=($!)
  waitfor "$tmp/page.port" '[0-9]'
  page=$(cat "$tmp/page.port")
  "$zumo" serve --addr 127.0.0.1:0 --url-file "$tmp/cors.url" --user ann:pw --soft-delete --api echo --quiet \
    --cors "http://127.0.0.1:$page" >"$tmp/cors.log" 2>&1 &
  pids+=($!)
  waitfor "$tmp/cors.url" http
  "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$tmp/profile" \
    --virtual-time-budget=60000 --dump-dom "http://127.0.0.1:$page/page.html#$(cat "$tmp/cors.url")|ann|pw" \
    2>/dev/null >"$tmp/dom.html"
  # The transcript is the text of <pre id="out">, HTML-escaped.
  node -e '
    const html = require("fs").readFileSync(process.argv[1], "utf8");
    const m = /<title>([^<]*)<\/title>[\s\S]*<pre id="out">([\s\S]*?)<\/pre>/.exec(html);
    if (!m) { console.error("no transcript in the page:\n" + html); process.exit(1); }
    const text = m[2].replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&amp;/g, "&");
    process.stdout.write(text);
    if (m[1] !== "done") { console.error("the page ended with: " + m[1]); process.exit(1); }
  ' "$tmp/dom.html" >"$tmp/browser.txt" || status=1
  if ! diff -u "$tmp/zumo.txt" "$tmp/browser.txt"; then
    echo "FAIL: the JS client in a browser saw zumo serve differently from the JS client in Node (- node, + browser)"
    status=1
  fi
fi

steps=$(grep -c . "$tmp/zumo.txt")
if [ "$status" = 0 ]; then
  echo "1 passed, 0 failed: the official JS client did $steps steps against zumo serve as against the Node server (in Node${chromium:+ and in a browser})"
else
  echo "0 passed, 1 failed"
fi
exit "$status"
