// Just what parser.cpp needs from libsinsp/utils.h.
#pragma once
#include <algorithm>
#include <cassert>
#include <cctype>
#include <string>
#define ASSERT(x) assert(x)
inline std::string& trim(std::string& s) {
	auto not_space = [](unsigned char c) { return !std::isspace(c); };
	s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
	s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
	return s;
}
