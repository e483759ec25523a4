// The bundled street-scene model, assembled into the binary so that it travels with any executable
// that links the library, even one copied alone. The folder `model/` is on the include path, which
// the assembler searches for .incbin.
#if defined(__APPLE__)
    .const
    .p2align 6
    .globl _danet_demo_model_start
_danet_demo_model_start:
    .incbin "default-street-danet.pth"
    .globl _danet_demo_model_end
_danet_demo_model_end:
#else
    .section .rodata.danet_demo_model, "a"
    .p2align 6
    .globl danet_demo_model_start
    .hidden danet_demo_model_start
danet_demo_model_start:
    .incbin "default-street-danet.pth"
    .globl danet_demo_model_end
    .hidden danet_demo_model_end
danet_demo_model_end:
#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack, "", %progbits
#endif
#endif
