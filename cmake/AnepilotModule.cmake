# anepilot_module(NAME name [DEPS target...] [PUBLIC_DEPS target...])
#
# Makes static library anepilot_<name> from the *.cc of the calling folder
# (excluding *_test.cc, *_fuzz.cc, *_main.cc and files listed in EXCLUDE), and,
# when tests are on, one GoogleTest binary anepilot_<name>_tests from the
# *_test.cc files. Tests get ANEPILOT_SOURCE_DIR so they can find ../shared.
function(anepilot_module)
  cmake_parse_arguments(M "" "NAME" "DEPS;PUBLIC_DEPS;EXCLUDE;EXTRA_SOURCES;TEST_DEPS" ${ARGN})
  file(GLOB _all CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  set(_srcs "")
  set(_tests "")
  foreach(f ${_all})
    get_filename_component(_n ${f} NAME)
    if(_n MATCHES "_test\\.cc$")
      list(APPEND _tests ${f})
    elseif(_n MATCHES "_fuzz\\.cc$" OR _n MATCHES "_main\\.cc$")
    elseif(_n IN_LIST M_EXCLUDE)
    else()
      list(APPEND _srcs ${f})
    endif()
  endforeach()
  set(_lib anepilot_${M_NAME})
  if(NOT _srcs AND NOT M_EXTRA_SOURCES)
    # A module with no sources yet (or headers only) is an interface library.
    add_library(${_lib} INTERFACE)
    target_include_directories(${_lib} INTERFACE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${_lib} INTERFACE ${M_PUBLIC_DEPS} ${M_DEPS})
  else()
    add_library(${_lib} STATIC ${_srcs} ${M_EXTRA_SOURCES})
    target_include_directories(${_lib} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${_lib} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_DEPS})
  endif()
  if(ANEPILOT_BUILD_TESTS AND _tests)
    add_executable(${_lib}_tests ${_tests})
    target_link_libraries(${_lib}_tests PRIVATE ${_lib} ${M_DEPS} ${M_PUBLIC_DEPS} ${M_TEST_DEPS}
                          GTest::gtest GTest::gtest_main GTest::gmock Threads::Threads)
    # Tests that run Python tooling (coremltools) use the configured
    # interpreter (scripts/setup.sh: the checkout's .venv), not whatever
    # `python3` is first on PATH.
    if(Python3_EXECUTABLE)
      set(_python "${Python3_EXECUTABLE}")
    else()
      set(_python "python3")
    endif()
    target_compile_definitions(${_lib}_tests PRIVATE
      ANEPILOT_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
      ANEPILOT_BINARY_DIR="${PROJECT_BINARY_DIR}"
      ANEPILOT_PYTHON="${_python}")
    gtest_discover_tests(${_lib}_tests DISCOVERY_TIMEOUT 60
                         PROPERTIES LABELS ${M_NAME})
  endif()
endfunction()
