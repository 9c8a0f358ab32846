#!/bin/sh
# Builds the yaml-cpp oracle: build.sh YAML_CPP_CHECKOUT [OUTPUT]
# YAML_CPP_CHECKOUT is a checkout of github.com/jbeder/yaml-cpp at the version Falco bundles
# (its error words changed after 0.8.0, in 2024; the reader follows the newer ones: checked
# against 0.9.0). Only yaml-cpp's src/*.cpp are compiled, with a C++17 compiler.
set -eu
yaml_cpp=${1:?usage: build.sh YAML_CPP_CHECKOUT [OUTPUT]}
out=${2:-/tmp/yaml-cpp-oracle}
here=$(cd "$(dirname "$0")" && pwd)
${CXX:-g++} -std=c++17 -O1 -DYAML_CPP_STATIC_DEFINE -I"$yaml_cpp/include" -I"$yaml_cpp/src" \
	"$here/oracle.cpp" "$yaml_cpp"/src/*.cpp -o "$out"
echo "$out"
