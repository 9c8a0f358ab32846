#pragma once
#define SINSP_PUBLIC
