/* Names of event operations as the report contract spells them. */
#ifndef PYRACE_EVENT_NAMES_H
#define PYRACE_EVENT_NAMES_H

#include <stdint.h>

const char *access_op_name(uint8_t op);

#endif
