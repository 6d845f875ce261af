#!/bin/sh
# Rebuild grantflow/static/govuk/ from GOV.UK Frontend (npm) with GrantFlow's settings
# (grantflow.scss: system fonts, no GDS Transport, own colours). Run from anywhere:
#   sh frontend/build.sh
# Needs node and npm; a newcomer does not: the built files are committed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../grantflow/static/govuk"
cd "$here"
npm install --no-audit --no-fund --silent
mkdir -p "$out"
./node_modules/.bin/sass --quiet --no-source-map --style=compressed --load-path=node_modules \
  grantflow.scss "$out/govuk-frontend.min.css"
# The only GOV.UK asset the stylesheet names is the crest (footer licence logo, header
# variants), which GrantFlow never shows (brand rule: no crown): no such image is referred to.
sed -i 's#url("/assets/images/govuk-crest.svg")#none#g' "$out/govuk-frontend.min.css"
cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js "$out/govuk-frontend.min.js"
version=$(node -p "require('govuk-frontend/package.json').version")
echo "GOV.UK Frontend $version, built $(date -u +%F) by frontend/build.sh" > "$out/VERSION"
echo "built $out (GOV.UK Frontend $version)"
