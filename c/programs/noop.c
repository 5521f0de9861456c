/* noop: returns success without reading its input (the smallest possible program). */
#include <heliostat.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  return SUCCESS;
}
