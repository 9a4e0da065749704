# Sourced by bench/web/run.sh and servers.sh: the benchmark's study and its users' sessions.
# The study is real: `kizon init`, a provider, and `kizon ingest` of ITEMS real DICOM files
# (hard links to the demo's generated images under distinct names, so ingest reads, hashes
# and parses every one), and one data-manager account per user (CONNECTIONS).
# Expects: kizon, work, items, connections; sets password and ingest_s.

password="load-test-password"

make_study() {  # STUDY
  "$kizon" demo "$work/demo" >/dev/null
  mkdir "$work/files"
  local sources
  mapfile -t sources < <(find "$work/demo/demo-sources/received/handover-2026-11-images" -name '*.dcm' | sort)
  python3 - "$work/files" "$items" "${sources[@]}" <<'PY'
import os, sys
out, n, sources = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
for i in range(n):
    folder = os.path.join(out, f"{i // 1000:03d}")
    if i % 1000 == 0:
        os.makedirs(folder)
    os.link(sources[i % len(sources)], os.path.join(folder, f"img{i:06d}.dcm"))
PY
  "$kizon" init "$1" >/dev/null
  "$kizon" --study "$1" provider add H --kind hospital --consent opt-out --legal-basis bench >/dev/null
  local start
  start=$(date +%s.%N)
  "$kizon" --study "$1" ingest --provider H "$work/files" >/dev/null 2>&1
  ingest_s=$(echo "$(date +%s.%N) - $start" | bc -l)
  for i in $(seq 1 "$connections"); do
    echo "$password" | "$kizon" --study "$1" user add "dm$i" --role data-manager >/dev/null
  done
}

sign_in() {  # PORT COOKIES: every user signs in on PORT; their session cookies into COOKIES
  : > "$2"
  for i in $(seq 1 "$connections"); do
    local jar="$work/jar$i" token
    token=$(curl -s -c "$jar" "http://127.0.0.1:$1/login" | grep -o 'name="login_token" value="[0-9a-f]*"' | sed 's/.*value="//;s/"//')
    curl -s -o /dev/null -b "$jar" -c "$jar" -d "name=dm$i&password=$password&login_token=$token" "http://127.0.0.1:$1/login"
    awk '$6 == "kizon_session" { print $7 }' "$jar" >> "$2"
  done
  [ "$(wc -l < "$2")" -eq "$connections" ] || { echo "bench/web: sign-in failed on port $1" >&2; exit 1; }
}
