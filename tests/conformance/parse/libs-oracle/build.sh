#!/bin/sh
# Builds the libs parser oracle: build.sh LIBS_CHECKOUT [OUTPUT]
# Needs a C++17 compiler and RE2 (Debian: libre2-dev). Only libs' filter/{parser,ast,escaping}
# are compiled, with the stub headers next to this script standing in for the rest of libsinsp.
set -eu
libs=${1:?usage: build.sh LIBS_CHECKOUT [OUTPUT]}
out=${2:-/tmp/libs-parser-oracle}
here=$(cd "$(dirname "$0")" && pwd)
src="$libs/userspace/libsinsp/filter"
${CXX:-g++} -std=c++17 -O1 -I"$here/stubs" -I"$libs/userspace" \
	"$here/oracle.cpp" "$src/parser.cpp" "$src/ast.cpp" "$src/escaping.cpp" -lre2 -o "$out"
echo "$out"
