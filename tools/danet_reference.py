"""A PyTorch reference DANet written from the paper and the official and mmsegmentation models, for golden outputs and parity checks.

Module and parameter names follow the official layout (`pretrained.*`, `head.*`), so
`model.state_dict()` is an official checkpoint; `to_mmseg(state_dict)` renames it to the
mmsegmentation layout (with the v1c stem, build with stem="v1c").

    model = DANet(depth=50, stem="resnet7", classes=19, width=64, layer4_dilations=(4, 8, 16))
    fused, pam, cam = model(x)              # each (N, classes, H, W)
    fused, pam, cam, stages = model(x, capture=True)   # stages: c1..c4, pam, cam
"""

import collections

import torch
import torch.nn as nn
import torch.nn.functional as F

BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, dilation=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


def conv_bn_relu(cin, cout, stride=1):
    return [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


class DilatedResNet(nn.Module):
    """Output stride 8: layer3 stride 1 (dilation 1 then 2), layer4 stride 1 (layer4_dilations[i % 3])."""

    def __init__(self, depth, stem, width, layer4_dilations):
        super().__init__()
        self.stem_kind = stem
        if stem == "resnet7":
            self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            inplanes = width
        elif stem == "deep":
            layers = conv_bn_relu(3, width, 2) + conv_bn_relu(width, width)
            layers.append(nn.Conv2d(width, width * 2, 3, padding=1, bias=False))
            self.conv1 = nn.Sequential(*layers)  # keys conv1.0/1/3/4/6
            self.bn1 = nn.BatchNorm2d(width * 2)
            inplanes = width * 2
        elif stem == "v1c":
            self.stem = nn.Sequential(*(conv_bn_relu(3, width // 2, 2) + conv_bn_relu(width // 2, width // 2)
                                        + conv_bn_relu(width // 2, width)))  # keys stem.0/1/3/4/6/7
            inplanes = width
        else:
            raise ValueError(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        counts = BLOCKS[depth]
        dilations = [[1] * counts[0], [1] * counts[1], [1] + [2] * (counts[2] - 1),
                     [layer4_dilations[i % 3] for i in range(counts[3])]]
        for stage in range(4):
            planes = width << stage
            stride = 2 if stage == 1 else 1
            blocks = []
            for i in range(counts[stage]):
                downsample = None
                if i == 0:
                    downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), nn.BatchNorm2d(planes * 4))
                blocks.append(Bottleneck(inplanes, planes, stride if i == 0 else 1, dilations[stage][i], downsample))
                inplanes = planes * 4
            setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))

    def forward(self, x, stages):
        if self.stem_kind == "v1c":
            x = self.stem(x)
        else:
            x = self.relu(self.bn1(self.conv1(x)))
        x = self.maxpool(x)
        for stage in range(4):
            x = getattr(self, f"layer{stage + 1}")(x)
            stages[f"c{stage + 1}"] = x
        return x


class PAM(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.query_conv = nn.Conv2d(channels, channels // 8, 1)
        self.key_conv = nn.Conv2d(channels, channels // 8, 1)
        self.value_conv = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        n, c, h, w = x.shape
        query = self.query_conv(x).view(n, -1, h * w).permute(0, 2, 1)
        key = self.key_conv(x).view(n, -1, h * w)
        attention = torch.softmax(torch.bmm(query, key), dim=-1)  # no 1/sqrt(d) scaling
        value = self.value_conv(x).view(n, -1, h * w)
        out = torch.bmm(value, attention.permute(0, 2, 1)).view(n, c, h, w)
        return self.gamma * out + x


class CAM(nn.Module):
    def __init__(self):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        n, c, h, w = x.shape
        flat = x.view(n, c, -1)
        energy = torch.bmm(flat, flat.permute(0, 2, 1))
        energy_new = torch.max(energy, -1, keepdim=True)[0].expand_as(energy) - energy
        attention = torch.softmax(energy_new, dim=-1)
        return self.gamma * torch.bmm(attention, flat).view(n, c, h, w) + x


class DANetHead(nn.Module):
    def __init__(self, in_channels, classes):
        super().__init__()
        inter = in_channels // 4

        def block(cin):
            return nn.Sequential(nn.Conv2d(cin, inter, 3, padding=1, bias=False), nn.BatchNorm2d(inter), nn.ReLU())

        self.conv5a, self.conv5c = block(in_channels), block(in_channels)
        self.sa, self.sc = PAM(inter), CAM()
        self.conv51, self.conv52 = block(inter), block(inter)
        self.conv6 = nn.Sequential(nn.Dropout2d(0.1), nn.Conv2d(inter, classes, 1))
        self.conv7 = nn.Sequential(nn.Dropout2d(0.1), nn.Conv2d(inter, classes, 1))
        self.conv8 = nn.Sequential(nn.Dropout2d(0.1), nn.Conv2d(inter, classes, 1))

    def forward(self, x, stages):
        sa_feat = self.sa(self.conv5a(x))
        stages["pam"] = sa_feat
        sa_conv = self.conv51(sa_feat)
        sc_feat = self.sc(self.conv5c(x))
        stages["cam"] = sc_feat
        sc_conv = self.conv52(sc_feat)
        return self.conv8(sa_conv + sc_conv), self.conv6(sa_conv), self.conv7(sc_conv)


class DANet(nn.Module):
    def __init__(self, depth=101, stem="resnet7", classes=19, width=64, layer4_dilations=(4, 8, 16), align_corners=True):
        super().__init__()
        self.pretrained = DilatedResNet(depth, stem, width, layer4_dilations)
        self.head = DANetHead(width * 8 * 4, classes)
        self.align_corners = align_corners

    def forward(self, x, capture=False):
        size = x.shape[2:]
        stages = {}
        outputs = self.head(self.pretrained(x, stages), stages)
        outputs = [F.interpolate(o, size, mode="bilinear", align_corners=self.align_corners) for o in outputs]
        return (*outputs, stages) if capture else tuple(outputs)


MMSEG_RENAMES = [
    ("pretrained.", "backbone."),
    ("head.conv5a.0.", "decode_head.pam_in_conv.conv."), ("head.conv5a.1.", "decode_head.pam_in_conv.bn."),
    ("head.conv5c.0.", "decode_head.cam_in_conv.conv."), ("head.conv5c.1.", "decode_head.cam_in_conv.bn."),
    ("head.sa.query_conv.", "decode_head.pam.query_project."), ("head.sa.key_conv.", "decode_head.pam.key_project."),
    ("head.sa.value_conv.", "decode_head.pam.value_project."),
    ("head.sa.gamma", "decode_head.pam.gamma.scale"), ("head.sc.gamma", "decode_head.cam.gamma.scale"),
    ("head.conv51.0.", "decode_head.pam_out_conv.conv."), ("head.conv51.1.", "decode_head.pam_out_conv.bn."),
    ("head.conv52.0.", "decode_head.cam_out_conv.conv."), ("head.conv52.1.", "decode_head.cam_out_conv.bn."),
    ("head.conv6.1.", "decode_head.pam_conv_seg."), ("head.conv7.1.", "decode_head.cam_conv_seg."),
    ("head.conv8.1.", "decode_head.conv_seg."),
]


def train_step(model, optimizer, schedule, x, y):
    """One training step as the official DANet trains: cross-entropy on the fused logits plus 0.4 of
    each branch's; returns the loss."""
    fused, pam, cam = model(x)
    loss = F.cross_entropy(fused, y) + 0.4 * (F.cross_entropy(pam, y) + F.cross_entropy(cam, y))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    return loss


def to_mmseg(state_dict):
    """Renames an official-layout state dict to mmseg's; gammas become 0-dim as mmseg's Scale."""
    out = collections.OrderedDict()
    for name, tensor in state_dict.items():
        for old, new in MMSEG_RENAMES:
            if name.startswith(old):
                name = new + name[len(old):]
                break
        out[name] = tensor.reshape(()) if name.endswith("gamma.scale") else tensor
    return out


@torch.no_grad()
def randomize(model, seed=0, gamma=(0.5, 0.3), residual_scale=0.3):
    """Random weights, realistic BN statistics (from batches of random images in train mode) and
    non-zero attention gammas; leaves the model in eval mode.

    The last BN of each residual branch (bn3) gets weights around `residual_scale`, as trained
    ResNets have. With unit weights there, a random 100-layer ResNet is chaotic: float32 rounding
    grows to 1e-3 of the output by layer4 (PyTorch float32 against float64 differs that much), so no
    float32 implementation could be held to a 1e-4 parity tolerance against it.
    """
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if p.dim() > 1:
            fan_in = p[0].numel()
            p.copy_(torch.randn(p.shape, generator=g) * (2.0 / fan_in) ** 0.5)
        elif name.endswith("gamma"):
            continue
        elif name.endswith("bn3.weight"):
            p.copy_(residual_scale * (1.0 + 0.2 * torch.randn(p.shape, generator=g)))
        elif name.endswith("weight"):
            p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=g))
        else:
            p.copy_(0.1 * torch.randn(p.shape, generator=g))
    model.head.sa.gamma.fill_(gamma[0])
    model.head.sc.gamma.fill_(gamma[1])
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.momentum = None  # cumulative average over the calibration batches
    model.train()
    for _ in range(3):
        model(torch.randn(2, 3, 64, 80, generator=g))
    model.eval()
    return model
