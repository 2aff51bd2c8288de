/* What a NIC says about its queues through ethtool ioctls: how many rx queues,
 * and the RSS Toeplitz key and indirection table that spread flows over them. */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/sockios.h>

#include <xdpstack/mq.h>

#define NIC_RSS_HASH_TOP 1u /* ETH_RSS_HASH_TOP: Toeplitz (the kernel's, not in uapi) */

/* One ETHTOOL_* ioctl on ifname with data; 0 or -errno. */
static int ethtool(const char *ifname, void *data)
{
	struct ifreq ifr;
	int fd, ret = 0;

	if (!ifname || strlen(ifname) >= IF_NAMESIZE)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	ifr.ifr_data = data;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* rx-N entries under /sys/class/net/IF/queues. */
static int sysfs_rx_queues(const char *ifname)
{
	char path[96];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "rx-", 3))
			n++;
	closedir(d);
	return n ? n : -ENOENT;
}

int xs_nic_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};

	if (!ifname || !*ifname || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, '/'))
		return -EINVAL;
	/* Combined channels are rx+tx queue pairs; drivers with separate
	 * ones (veth) report rx_count. */
	if (ethtool(ifname, &ch) == 0) {
		if (ch.combined_count)
			return (int)(ch.combined_count + ch.rx_count);
		if (ch.rx_count)
			return (int)ch.rx_count;
	}
	return sysfs_rx_queues(ifname);
}

/* Does TCP over IPv4 hash both ports (ETHTOOL_GRXFH)? */
static int tcp4_hashes_ports(const char *ifname)
{
	struct ethtool_rxnfc nfc = {.cmd = ETHTOOL_GRXFH, .flow_type = TCP_V4_FLOW};

	if (ethtool(ifname, &nfc))
		return 0;
	return (nfc.data & (RXH_L4_B_0_1 | RXH_L4_B_2_3)) == (RXH_L4_B_0_1 | RXH_L4_B_2_3);
}

int xs_nic_rss(const char *ifname, struct xs_rss *out)
{
	struct ethtool_rxfh head = {.cmd = ETHTOOL_GRSSH}, *rx;
	size_t sz;
	uint32_t i;
	int ret;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	ret = ethtool(ifname, &head); /* sizes first */
	if (ret)
		return ret;
	if (!head.indir_size || !head.key_size || head.indir_size > XS_RSS_INDIR_MAX ||
	    head.key_size > XS_RSS_KEY_MAX)
		return -EOPNOTSUPP;
	sz = sizeof(*rx) + head.indir_size * sizeof(uint32_t) + head.key_size;
	rx = calloc(1, sz);
	if (!rx)
		return -ENOMEM;
	rx->cmd = ETHTOOL_GRSSH;
	rx->indir_size = head.indir_size;
	rx->key_size = head.key_size;
	ret = ethtool(ifname, rx);
	if (!ret && rx->hfunc != NIC_RSS_HASH_TOP)
		ret = -EOPNOTSUPP; /* XOR or CRC32: not a hash we compute */
	if (!ret) {
		for (i = 0; i < rx->indir_size; i++)
			out->indir[i] = rx->rss_config[i];
		out->indir_len = rx->indir_size;
		memcpy(out->key, (const uint8_t *)(rx->rss_config + rx->indir_size), rx->key_size);
		out->key_len = rx->key_size;
		out->tcp4_ports = tcp4_hashes_ports(ifname);
	}
	free(rx);
	return ret;
}
