#!/bin/sh
# Prints a greeting; the example workflow's test job runs it.
echo "Hello, ${1:-world}!"
