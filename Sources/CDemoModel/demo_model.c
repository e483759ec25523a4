#include "CDemoModel.h"

extern const unsigned char danet_demo_model_start[];
extern const unsigned char danet_demo_model_end[];

const void *danet_demo_model(size_t *count) {
    *count = (size_t)(danet_demo_model_end - danet_demo_model_start);
    return danet_demo_model_start;
}
