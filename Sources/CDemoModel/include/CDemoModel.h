#ifndef CDEMOMODEL_H
#define CDEMOMODEL_H

#include <stddef.h>

/// The bytes of the bundled street-scene model (a torch.save zip checkpoint), valid for the life
/// of the process; `count` receives their number.
const void *danet_demo_model(size_t *count);

#endif
