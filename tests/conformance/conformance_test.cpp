// Placeholder: the conformance suite is being written.
#include <doctest/doctest.h>
