// yaml-cpp differential oracle for Rulestudio's YAML reader (engine/src/loader/yaml/).
// Line protocol: each input line is a hex-encoded file; each output line is the hex encoding of
// "OK\n<one canonical line per document>" or "ERR <yaml-cpp's what()>", the same form as
// rulestudio_engine::loader::yaml_canonical. Written for this project; build.sh compiles it
// with yaml-cpp's own sources.
#include <yaml-cpp/yaml.h>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

static void json_string(const std::string& s, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

static void dump(const YAML::Node& node, std::string& out) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: out += '~'; break;
    case YAML::NodeType::Scalar: json_string(node.Scalar(), out); break;
    case YAML::NodeType::Sequence: {
      out += '[';
      bool first = true;
      for (const auto& item : node) {
        if (!first) out += ',';
        first = false;
        dump(item, out);
      }
      out += ']';
      break;
    }
    case YAML::NodeType::Map: {
      out += '{';
      bool first = true;
      for (const auto& kv : node) {
        if (!first) out += ',';
        first = false;
        dump(kv.first, out);
        out += ':';
        dump(kv.second, out);
      }
      out += '}';
      break;
    }
  }
}

static std::string unhex(const std::string& h) {
  std::string s;
  for (size_t i = 0; i + 1 < h.size(); i += 2) s += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return s;
}

static std::string tohex(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string h;
  for (unsigned char c : s) {
    h += hex[c >> 4];
    h += hex[c & 15];
  }
  return h;
}

static std::string judge(const std::string& text) {
  std::string out;
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    out = "OK";
    for (const auto& doc : docs) {
      out += '\n';
      dump(doc, out);
    }
  } catch (const YAML::Exception& e) {
    out = std::string("ERR ") + e.what();
  }
  return out;
}

// Each input is judged in a child process with a time limit: yaml-cpp 0.7 recurses without
// bound on deep nesting and loops on a few inputs, and such an input answers CRASH or HANG
// instead of ending the run.
static std::string judge_isolated(const std::string& text) {
  int fds[2];
  if (pipe(fds) != 0) return "CRASH pipe";
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    alarm(5);
    std::string out = judge(text);
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGALRM ? "HANG" : "CRASH " + std::to_string(WTERMSIG(status));
  return out;
}

int main() {
  std::string line;
  while (std::getline(std::cin, line)) std::cout << tohex(judge_isolated(unhex(line))) << std::endl;
  return 0;
}
