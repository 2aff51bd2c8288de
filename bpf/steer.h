/* Map layout shared by the XDP steering program (bpf/xdp_steer.bpf.c) and
 * the loader (user/dev/afxdp.c). Plain fixed-width types only. */
#ifndef XS_STEER_H
#define XS_STEER_H

#include <linux/types.h>

#define XS_STEER_MAX_QUEUES 64

/* Key 0 of the config array. Addresses in network byte order. */
struct xs_steer_cfg {
	__u32 ip4;   /* the stack's IPv4 address; 0 = none yet */
	__u32 flags; /* XS_STEER_F_* */
	__u16 vlan;  /* 802.1Q id (host order) the stack lives on; 0 = untagged */
	__u16 pad;
	/* Not read by the program: the pid of the xdpstack that loaded it, so
	 * a later one can tell a leftover from a program still in use. */
	__u32 owner_pid;
	__u8 mac[6]; /* the stack's MAC: DHCP replies and ARP for it (F_DHCP) */
	__u16 pad2;
};

/* While DHCP runs the stack has no address: also take UDP to port 68 whose
 * BOOTP chaddr is the stack's MAC (so the kernel's own DHCP client, with the
 * interface's MAC, is never robbed), and ARP whose target MAC is the stack's
 * (the replies to its RFC 5227 probe). */
#define XS_STEER_F_DHCP 1u

enum xs_steer_counter {
	XS_STEER_REDIRECTED = 0,
	XS_STEER_PASSED = 1,
	XS_STEER_NCOUNTERS = 2,
};

#endif
