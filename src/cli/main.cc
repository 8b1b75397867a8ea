// The `anepilot` command-line tool. Everything happens in ToolMain
// (cli/tool.h); this file only connects it to the process.
#include <iostream>

#include "cli/tool.h"

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  int code = anepilot::cli::ToolMain(argc, argv, std::cout, std::cerr);
  std::cout.flush();
  return code;
}
