#!/bin/sh
echo "demo: not there yet"
