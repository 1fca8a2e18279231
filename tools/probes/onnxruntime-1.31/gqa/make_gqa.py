import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
def build(dtype, name, H=16, KV=4, D=128):
    T = TensorProto.FLOAT if dtype=='fp32' else TensorProto.FLOAT16
    npd = np.float32 if dtype=='fp32' else np.float16
    pos = np.arange(8192)[:,None]; inv = 1.0/(10000**(np.arange(0,D,2)/D))
    ang = pos*inv[None,:]
    cos = numpy_helper.from_array(np.cos(ang).astype(npd),'cos_cache'); sin = numpy_helper.from_array(np.sin(ang).astype(npd),'sin_cache')
    node = helper.make_node('GroupQueryAttention', ['qkv','','','past_key','past_value','seqlens_k','total_seq','cos_cache','sin_cache'],
        ['out','present_key','present_value'], domain='com.microsoft', num_heads=H, kv_num_heads=KV, scale=1.0/np.sqrt(D), do_rotary=1, rotary_interleaved=0, local_window_size=-1)
    g = helper.make_graph([node], 'gqa',
        [helper.make_tensor_value_info('qkv',T,[1,'S',(H+2*KV)*D]),
         helper.make_tensor_value_info('past_key',T,[1,KV,'P',D]), helper.make_tensor_value_info('past_value',T,[1,KV,'P',D]),
         helper.make_tensor_value_info('seqlens_k',TensorProto.INT32,[1]), helper.make_tensor_value_info('total_seq',TensorProto.INT32,[])],
        [helper.make_tensor_value_info('out',T,[1,'S',H*D]), helper.make_tensor_value_info('present_key',T,[1,KV,'T',D]), helper.make_tensor_value_info('present_value',T,[1,KV,'T',D])],
        [cos, sin])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('',17), helper.make_opsetid('com.microsoft',1)]); m.ir_version=9
    onnx.save(m, name)
build('fp32','gqa_h16_kv4_d128_fp32.onnx'); build('fp16','gqa_h16_kv4_d128_fp16.onnx')
print('ok')
