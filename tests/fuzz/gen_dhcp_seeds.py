# Writes the seeds of corpus/dhcp/ (deterministic): offers, an ACK, a NAK, a
# DISCOVER, and hostile messages. Run from the repository root.
import struct, os
D='tests/fuzz/corpus/dhcp/'
def msg(op=2, xid=0x1234, yi='10.0.0.100', opts=b'', htype=1, hlen=6, cookie=0x63825363):
    ip=lambda s: bytes(int(x) for x in s.split('.'))
    h=struct.pack('!BBBBIHH', op, htype, hlen, 0, xid, 0, 0)+bytes(4)+ip(yi)+ip('10.0.0.1')+bytes(4)
    h+=bytes([2,0,0,0,0,1])+bytes(10)+bytes(64)+bytes(128)+struct.pack('!I',cookie)
    return h+opts
O=lambda c,v: bytes([c,len(v)])+v
ip=lambda s: bytes(int(x) for x in s.split('.'))
full=O(53,b'\x02')+O(54,ip('10.0.0.1'))+O(51,struct.pack('!I',120))+O(58,struct.pack('!I',60))+O(59,struct.pack('!I',105))+O(1,ip('255.255.255.0'))+O(3,ip('10.0.0.1'))+O(6,ip('10.0.0.1')+ip('10.0.0.2'))
seeds={
 'offer': msg(opts=full+b'\xff'),
 'ack_padded': msg(opts=O(53,b'\x05')+O(54,ip('10.0.0.1'))+O(51,b'\xff\xff\xff\xff')+b'\xff'+bytes(60)),
 'nak': msg(yi='0.0.0.0', opts=O(53,b'\x06')+O(54,ip('10.0.0.1'))+b'\xff'),
 'discover': msg(op=1, yi='0.0.0.0', opts=O(53,b'\x01')+O(61,b'\x01'+bytes([2,0,0,0,0,1]))+O(55,bytes([1,3,6,51,58,59]))+b'\xff'),
 'opt_past_end': msg(opts=O(53,b'\x02')+bytes([6,200,10,0,0,1])),
 'no_end': msg(opts=O(53,b'\x02')+bytes(8)),
 'six_dns': msg(opts=O(53,b'\x05')+O(6,b''.join(ip('10.0.0.%d'%i) for i in range(1,7)))+b'\xff'),
 'overload_unknown': msg(opts=O(52,b'\x03')+O(200,b'abc')+O(53,b'\x02')+b'\xff'),
 'bootp': msg(cookie=0, opts=b'\xff'),
}
os.makedirs(D, exist_ok=True)
for k,v in seeds.items(): open(D+k,'wb').write(v)
