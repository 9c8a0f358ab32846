#pragma once
#include <stdexcept>
struct sinsp_exception : std::runtime_error {
	using std::runtime_error::runtime_error;
};
