echo "$GREETING $1 from $(pwd) as $INPUT_WHO"
echo "greeting=$GREETING $1" >> "$GITHUB_OUTPUT"
