// Differential-testing oracle: libs' own condition parser behind a line protocol.
// stdin: one hex-encoded condition per line. stdout: `OK <hex of ast::as_string>` or
// `ERR <hex of the exception message>`, parsed with Falco's rule-condition depth limit (1000).
// Built by build.sh against a falcosecurity/libs checkout; not part of the Rust build.
#include <libsinsp/filter/parser.h>
#include <iostream>
#include <string>

static std::string unhex(const std::string& h) {
	std::string out;
	for(size_t i = 0; i + 1 < h.size(); i += 2) {
		out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
	}
	return out;
}

static std::string hex(const std::string& s) {
	static const char* digits = "0123456789abcdef";
	std::string out;
	for(unsigned char c : s) {
		out.push_back(digits[c >> 4]);
		out.push_back(digits[c & 15]);
	}
	return out;
}

int main() {
	std::string line;
	while(std::getline(std::cin, line)) {
		libsinsp::filter::parser p(unhex(line));
		p.set_max_depth(1000);
		try {
			auto tree = p.parse();
			std::cout << "OK " << hex(libsinsp::filter::ast::as_string(tree.get())) << "\n";
		} catch(const std::exception& e) {
			std::cout << "ERR " << hex(e.what()) << "\n";
		}
	}
}
