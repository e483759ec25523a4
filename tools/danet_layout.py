"""The DANet checkpoint key layouts (official and mmsegmentation), as (name, shape) pairs.

Used to make full-size checkpoints for benchmarks without building the model; the counts are
checked against the totals DANET.md gives (R50: 356 entries, 47,462,651 learnable parameters;
R101: 662, 66,454,779).
"""

BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


def batch_norm(prefix, channels):
    return [(f"{prefix}.weight", (channels,)), (f"{prefix}.bias", (channels,)),
            (f"{prefix}.running_mean", (channels,)), (f"{prefix}.running_var", (channels,)),
            (f"{prefix}.num_batches_tracked", ())]


def official_keys(depth=101, classes=19, stem="resnet7"):
    keys = []
    if stem == "resnet7":
        keys += [("pretrained.conv1.weight", (64, 3, 7, 7))] + batch_norm("pretrained.bn1", 64)
        inplanes = 64
    elif stem == "deep":
        keys += [("pretrained.conv1.0.weight", (64, 3, 3, 3))] + batch_norm("pretrained.conv1.1", 64)
        keys += [("pretrained.conv1.3.weight", (64, 64, 3, 3))] + batch_norm("pretrained.conv1.4", 64)
        keys += [("pretrained.conv1.6.weight", (128, 64, 3, 3))] + batch_norm("pretrained.bn1", 128)
        inplanes = 128
    else:
        raise ValueError(stem)
    for stage, (blocks, planes) in enumerate(zip(BLOCKS[depth], (64, 128, 256, 512)), start=1):
        for block in range(blocks):
            prefix = f"pretrained.layer{stage}.{block}"
            keys += [(f"{prefix}.conv1.weight", (planes, inplanes, 1, 1))] + batch_norm(f"{prefix}.bn1", planes)
            keys += [(f"{prefix}.conv2.weight", (planes, planes, 3, 3))] + batch_norm(f"{prefix}.bn2", planes)
            keys += [(f"{prefix}.conv3.weight", (planes * 4, planes, 1, 1))] + batch_norm(f"{prefix}.bn3", planes * 4)
            if block == 0:
                keys += [(f"{prefix}.downsample.0.weight", (planes * 4, inplanes, 1, 1))]
                keys += batch_norm(f"{prefix}.downsample.1", planes * 4)
            inplanes = planes * 4
    for name in ("conv5a", "conv5c"):
        keys += [(f"head.{name}.0.weight", (512, 2048, 3, 3))] + batch_norm(f"head.{name}.1", 512)
    keys += [("head.sa.gamma", (1,)), ("head.sa.query_conv.weight", (64, 512, 1, 1)), ("head.sa.query_conv.bias", (64,)),
             ("head.sa.key_conv.weight", (64, 512, 1, 1)), ("head.sa.key_conv.bias", (64,)),
             ("head.sa.value_conv.weight", (512, 512, 1, 1)), ("head.sa.value_conv.bias", (512,)), ("head.sc.gamma", (1,))]
    for name in ("conv51", "conv52"):
        keys += [(f"head.{name}.0.weight", (512, 512, 3, 3))] + batch_norm(f"head.{name}.1", 512)
    for name in ("conv6", "conv7", "conv8"):
        keys += [(f"head.{name}.1.weight", (classes, 512, 1, 1)), (f"head.{name}.1.bias", (classes,))]
    return keys


BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def parameter_count(keys, learnable_only=True):
    """Elements of the parameters (DANET.md's totals leave out the BN buffers)."""
    total = 0
    for name, shape in keys:
        if learnable_only and name.endswith(BUFFERS):
            continue
        count = 1
        for size in shape:
            count *= size
        total += count
    return total


def random_state_dict(keys, seed=0):
    import collections

    import torch

    g = torch.Generator().manual_seed(seed)
    sd = collections.OrderedDict()
    for name, shape in keys:
        if name.endswith("num_batches_tracked"):
            sd[name] = torch.tensor(0)
        elif name.endswith("running_var"):
            sd[name] = torch.rand(shape, generator=g) + 0.5
        else:
            sd[name] = torch.randn(shape, generator=g) * 0.05
    return sd


if __name__ == "__main__":
    for depth, entries, params in ((50, 356, 47_462_651), (101, 662, 66_454_779)):
        keys = official_keys(depth)
        print(depth, len(keys), parameter_count(keys))
        assert (len(keys), parameter_count(keys)) == (entries, params)
