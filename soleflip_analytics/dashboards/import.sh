#!/bin/sh
# Import the exported dashboard templates into Metabase through its REST API:
# every card (POST /api/card), then each dashboard (POST /api/dashboard), then
# its cards' places and filter wiring (PUT /api/dashboard/:id), with the ids
# Metabase gave the cards in place of the card file names in dashcards.json.
#
#   MB_URL=https://metabase.example.com MB_API_KEY=mb_... sh import.sh DATABASE_ID [COLLECTION_ID]
#
# DATABASE_ID: the Metabase id of the database that holds the analytics views.
# COLLECTION_ID: the collection to create everything in (default: the root collection).
# Needs curl and jq. Each run creates new cards and dashboards; to update them
# in place, use `soleflip-analytics dashboards push`.
set -eu

: "${MB_URL:?set MB_URL to the address of your Metabase}"
: "${MB_API_KEY:?set MB_API_KEY to a Metabase API key}"
usage="usage: sh import.sh DATABASE_ID [COLLECTION_ID]"
database=${1:?$usage}
collection=${2:-null}
for number in "$database" "${2:-1}"; do
    case $number in '' | 0* | *[!0-9]*) echo "$usage" >&2; exit 2 ;; esac
done
cd "$(dirname "$0")"

# send METHOD PATH: sends standard input as the JSON body; prints the id in the answer.
send() {
    answer=$(curl --silent --show-error --fail-with-body -X "$1" \
        -H "x-api-key: $MB_API_KEY" -H "Content-Type: application/json" \
        --data-binary @- "${MB_URL%/}$2") || { echo "$1 $2 failed: $answer" >&2; exit 1; }
    printf '%s' "$answer" | jq -e '.id'
}

for directory in $(jq -r '.dashboards[].directory' manifest.json); do
    entry=".dashboards[] | select(.directory == \"$directory\")"
    ids='{}'
    for card in $(jq -r "$entry | .cards[]" manifest.json); do
        id=$(jq --argjson database "$database" --argjson collection "$collection" \
            '.dataset_query.database = $database | .collection_id = $collection' \
            "$directory/$card" | send POST /api/card)
        ids=$(printf '%s' "$ids" | jq --arg card "$card" --argjson id "$id" '. + {($card): $id}')
    done
    dashboard=$(jq --argjson collection "$collection" '.collection_id = $collection' \
        "$directory/dashboard.json" | send POST /api/dashboard)
    jq --argjson ids "$ids" \
        '.dashcards |= map(.card_id = $ids[.card_id]
                           | .parameter_mappings |= map(.card_id = $ids[.card_id]))' \
        "$directory/dashcards.json" | send PUT "/api/dashboard/$dashboard" >/dev/null
    echo "$(jq -r "$entry | .name" manifest.json): dashboard #$dashboard"
done
