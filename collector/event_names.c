/* Names of event operations as the report contract spells them. */
#include "event_names.h"

#include "events.h"

const char *access_op_name(uint8_t op)
{
	switch (op) {
	case PYOP_READ:
		return "read";
	case PYOP_WRITE:
		return "write";
	case PYOP_DELETE:
		return "delete";
	case PYOP_POP:
		return "pop";
	case PYOP_SETDEFAULT:
		return "setdefault";
	case PYOP_CLEAR:
		return "clear";
	case PYOP_UPDATE:
		return "update";
	case PYOP_POPITEM:
		return "popitem";
	case PYOP_ITERATE:
		return "read"; /* of every key: iteration or copy */
	default:
		return "unknown";
	}
}
